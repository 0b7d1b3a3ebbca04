"""Kyrios: a Discord community platform and a browser stock-market game."""

__version__ = "0.1.0"
