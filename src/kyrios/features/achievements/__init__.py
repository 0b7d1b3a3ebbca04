"""The achievements slice."""
