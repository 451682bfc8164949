"""Alembic migrations of the metadata store; ``HEAD`` must name the newest revision."""

HEAD = "0009"
