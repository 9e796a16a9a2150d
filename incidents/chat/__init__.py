"""Chat rooms linked to incidents: a channel where an incident is worked speaks of that incident."""
