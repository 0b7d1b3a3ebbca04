"""The public REST API under `/api/v1`: one router module per area (trading, market data)."""
