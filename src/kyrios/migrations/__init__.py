"""Alembic migrations (async env)."""
