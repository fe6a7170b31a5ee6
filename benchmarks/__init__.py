"""ELM's performance figures, measured against the scan-based seed design (`make bench`)."""
