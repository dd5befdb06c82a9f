"""SQL storage: SQLite by default, PostgreSQL for several hub processes."""

from hub.store.database import Database

__all__ = ["Database"]
