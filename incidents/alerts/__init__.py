"""Pager alerts as evidence on incidents: deliveries kept raw, alert occurrences, and what they do."""
