"""Prometheus Alertmanager's webhook receiver (webhook_config, version 4)."""
