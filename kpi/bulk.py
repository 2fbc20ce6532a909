"""Plain multi-row INSERTs for bulk work (rescoring thousands of indicators at once).

`QuerySet.bulk_create` compiles and adapts every value of every row through the field machinery; for
score rows that is most of the cost of a rescore. Here the caller hands rows of values that are already
what the driver takes, and one `executemany` per batch sends them (psycopg pipelines it, SQLite loops in C).
"""
from __future__ import annotations

import json
from itertools import islice
from typing import Iterable, Sequence

from django.db import connection
from django.db.models import Model

BATCH_SIZE = 2000


class RowWriter:
    """Insert rows of `fields` into `model`'s table; `adapt_*` turn Python values into driver values once."""

    def __init__(self, model: type[Model], fields: Sequence[str]):
        opts = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(opts.get_field(name).column) for name in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ({placeholders})"
        self._json_field = next((opts.get_field(n) for n in fields if opts.get_field(n).get_internal_type() == "JSONField"), None)
        self._json_cache: dict[tuple, object] = {}

    def adapt_datetime(self, value):
        return connection.ops.adapt_datetimefield_value(value)

    def adapt_json_list(self, items: tuple) -> object:
        """A JSON list value as the driver wants it; cached, since rows repeat the same few flag lists."""
        cached = self._json_cache.get(items)
        if cached is None:
            if self._json_field is not None:
                cached = self._json_field.get_db_prep_save(list(items), connection)
            else:
                cached = json.dumps(list(items), ensure_ascii=False)
            self._json_cache[items] = cached
        return cached

    def insert(self, rows: Iterable[tuple], *, batch_size: int = BATCH_SIZE) -> int:
        count = 0
        iterator = iter(rows)
        with connection.cursor() as cursor:
            while batch := list(islice(iterator, batch_size)):
                cursor.executemany(self.sql, batch)
                count += len(batch)
        return count
