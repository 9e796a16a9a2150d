"""Opsgenie's alert webhook integration."""
