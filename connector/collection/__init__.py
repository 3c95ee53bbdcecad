"""Pre-incasso: policies, cases, holds, step planning and sending, Dutch legal rules."""
