"""The blameless review: post-mortems, their sections, contributing factors and countermeasures."""
