"""Helpers every handler shares: observability, settings, warm-up."""
