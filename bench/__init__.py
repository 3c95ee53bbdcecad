"""Benchmarks (``make bench``): API calls against the minimum, sync throughput and memory."""
