"""The FastAPI shell: interactions endpoint, operations, (later) the exchange."""
