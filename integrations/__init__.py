"""Adapters between Kintsugi and the tools responders use: pagers and chat."""
