"""Persistence: SQLModel tables, queries and Alembic migrations (SQLite or PostgreSQL)."""
