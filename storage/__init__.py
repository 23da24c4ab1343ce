"""SQLite storage: schema and migrations, repositories returning plain data, search."""

from storage.db import open_db

__all__ = ["open_db"]
