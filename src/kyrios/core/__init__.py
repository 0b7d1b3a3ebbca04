"""The kernel: database, errors, clock, randomness, event bus. Imports no feature."""
