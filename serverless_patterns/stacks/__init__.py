"""Environment configuration and the per-environment composition of the patterns."""
