"""The debtor's side: a page behind every message (pay, or answer), its links and limits."""
