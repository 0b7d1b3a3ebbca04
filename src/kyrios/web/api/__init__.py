"""The versioned JSON API under `/api/v1`: one module per area, each with its `router`."""
