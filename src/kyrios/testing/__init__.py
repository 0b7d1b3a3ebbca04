"""Helpers shared by tests/ and bench/: databases, signed interactions, the Discord emulator."""
