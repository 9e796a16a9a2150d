"""Grafana alerting's webhook contact point."""
