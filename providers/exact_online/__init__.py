"""Exact Online (start.exactonline.nl and sister hosts): REST API v1 over OAuth2."""
