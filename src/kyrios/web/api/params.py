"""Parameter types shared by the API routers."""

from __future__ import annotations

MAX_ID = 2**63 - 1
"""The largest row id or epoch value a database column (BIGINT) holds: a larger one is a 422, not a
driver's overflow (a 500)."""
