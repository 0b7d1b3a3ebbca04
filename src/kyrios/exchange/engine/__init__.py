"""The pure matching core: commands in, events out; no I/O, clock or randomness."""
