"""PagerDuty's Webhooks V3."""
