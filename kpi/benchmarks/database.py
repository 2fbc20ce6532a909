"""A scratch database for benchmarks on the configured backend, and its URL for the processes they start."""
from __future__ import annotations

import os
import tempfile
from urllib.parse import quote

from django.db import connection


class throwaway_database:
    """Create a scratch test database on the configured backend and drop it afterwards.

    SQLite: a temporary file (`jixiao-bench-*.sqlite3` in the system's temporary folder); PostgreSQL:
    `<name>_bench` beside the configured database. Dropped on leaving the block, on error and on Ctrl-C too.
    `name` is the database's name (the file's path on SQLite) while inside.
    """

    def __enter__(self):
        self.tmp = None
        if connection.vendor == "sqlite":
            self.tmp = tempfile.NamedTemporaryFile(prefix="jixiao-bench-", suffix=".sqlite3", delete=False)
            self.tmp.close()
            connection.settings_dict.setdefault("TEST", {})["NAME"] = self.tmp.name
        else:
            connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{connection.settings_dict['NAME']}_bench"
        self.old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        self.name = connection.settings_dict["NAME"]
        return self

    def __exit__(self, *exc):
        try:
            connection.creation.destroy_test_db(self.old_name, verbosity=0)
        finally:
            if self.tmp is not None:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    try:
                        os.unlink(self.tmp.name + suffix)
                    except FileNotFoundError:
                        pass
        return False


def database_url() -> str:
    """A DATABASE_URL naming the database the default connection uses now (the throwaway one inside it)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor != "postgresql":
        raise ValueError(f"不支持的数据库：{connection.vendor}（只支持 SQLite 和 PostgreSQL）。")
    auth = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'] or '', safe='')}@" if db.get("USER") else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{quote(db['NAME'], safe='')}"
