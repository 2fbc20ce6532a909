"""Plain multi-row INSERTs for bulk work (rescoring thousands of indicators at once).

`QuerySet.bulk_create` compiles and adapts every value of every row through the field machinery; for
score rows that is most of the cost of a rescore. Here the caller hands rows of values that are already
what the driver takes: PostgreSQL receives them by COPY (psycopg streams the rows), SQLite by one
`executemany` per batch (its loop runs in C).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import connection
from django.db.models import DateTimeField, Model
from django.utils import timezone

BATCH_SIZE = 2000
# Values the driver takes as Python gives them; the others go through their field's get_db_prep_save.
_DRIVER_TYPES = {"AutoField", "BigAutoField", "BigIntegerField", "IntegerField", "PositiveIntegerField",
                 "PositiveSmallIntegerField", "SmallIntegerField", "BooleanField", "CharField", "TextField",
                 "ForeignKey"}


class RowWriter:
    """Insert rows of `fields` into `model`'s table; `adapt_*` turn Python values into driver values once."""

    def __init__(self, model: type[Model], fields: Sequence[str]):
        opts = model._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(opts.get_field(name).column) for name in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
        self._json_field = next((opts.get_field(n) for n in fields if opts.get_field(n).get_internal_type() == "JSONField"), None)
        self._json_cache: dict[tuple, object] = {}

    def adapt_datetime(self, value):
        return connection.ops.adapt_datetimefield_value(value)

    def adapt_json_list(self, items: tuple) -> object:
        """A JSON list value as the driver wants it; cached, since rows repeat the same few flag lists."""
        cached = self._json_cache.get(items)
        if cached is None:
            if connection.vendor == "postgresql" or self._json_field is None:
                # COPY reads text: the server parses it into jsonb, no client-side dumping per row.
                cached = json.dumps(list(items), ensure_ascii=False)
            else:
                cached = self._json_field.get_db_prep_save(list(items), connection)
            self._json_cache[items] = cached
        return cached

    def insert(self, rows: Iterable[tuple], *, batch_size: int = BATCH_SIZE) -> int:
        if connection.vendor == "postgresql":
            return self._copy(rows)
        count = 0
        iterator = iter(rows)
        with connection.cursor() as cursor:
            while batch := list(islice(iterator, batch_size)):
                cursor.executemany(self.sql, batch)
                count += len(batch)
        return count

    def _copy(self, rows: Iterable[tuple]) -> int:
        count = 0
        with connection.cursor() as cursor, cursor.cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count


_CONSTANT, _NOW, _RELATED, _AS_IS, _PREPARED = "constant", "now", "related", "as is", "prepared"


def driver_rows(fields: Sequence, objs: Iterable, *, constant: dict | None = None):
    """Rows of driver-ready values of these concrete `fields` of the instances, as bulk_create would send them:
    an auto_now(_add) field filled (on the instance too) with the time of the call, a foreign key from its
    related instance when that was saved after being assigned (an unsaved report given to an unsaved actual),
    every other value through its field's get_db_prep_save, memoised per distinct value (a batch repeats the
    same dates and decimals). `constant`: a value already prepared, by attname, for every row."""
    constant = constant or {}
    plan = []  # (field, how its value is had, what that needs)
    for f in fields:
        if f.attname in constant:
            plan.append((f, _CONSTANT, constant[f.attname]))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            # the same instant for every row of the call (bulk_create takes one a row, microseconds apart)
            now = timezone.now() if isinstance(f, DateTimeField) else timezone.localdate()
            plan.append((f, _NOW, (now, f.get_db_prep_save(now, connection))))
        elif f.is_relation:
            plan.append((f, _RELATED, None))
        elif f.get_internal_type() in _DRIVER_TYPES:
            plan.append((f, _AS_IS, None))
        else:
            plan.append((f, _PREPARED, _memoised_prep(f)))
    for obj in objs:
        row = []
        for f, how, extra in plan:
            if how is _CONSTANT:
                row.append(extra)
            elif how is _AS_IS:
                row.append(getattr(obj, f.attname))
            elif how is _RELATED:
                value = getattr(obj, f.attname)
                if value is None and f.is_cached(obj):
                    related = f.get_cached_value(obj)
                    if related is not None:
                        value = related.pk
                        setattr(obj, f.attname, value)
                row.append(value)
            elif how is _NOW:
                setattr(obj, f.attname, extra[0])
                row.append(extra[1])
            else:
                row.append(extra(getattr(obj, f.attname)))
        yield tuple(row)


def _memoised(function):
    """`function` of one value, computed once per distinct hashable value (an unhashable one every time)."""
    cache: dict = {}

    def memoised(value):
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = function(value)
            return result
        except TypeError:  # unhashable (a JSON list): not memoised
            return function(value)

    return memoised


def _memoised_prep(field):
    prep = _memoised(lambda value: field.get_db_prep_save(value, connection))
    return lambda value: None if value is None else prep(value)


def sqlite_variable_limit() -> int:
    """How many variables one statement may hold in the linked SQLite library (32,766 since 3.32; Django 5.2
    assumes the 999 of older ones)."""
    import sqlite3

    connection.ensure_connection()
    return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def objects_insert(model: type[Model], objs: Sequence[Model], *, batch_size: int = 1000) -> None:
    """INSERT unsaved instances of `model` (every concrete field but the auto primary key), as
    QuerySet.bulk_create does but without compiling each value through the ORM, and set each one's pk from
    the statement's RETURNING (rows come back in VALUES order, as bulk_create relies on both databases).

    PostgreSQL gets, as bulk_create does there, one array per column (INSERT … SELECT * FROM UNNEST): a
    statement of one placeholder per value is split by psycopg in Python, a tenth of a second per thousand
    rows of twenty columns (8,008 actuals: 3.1 of the import's 14 s)."""
    if not objs:
        return
    opts = model._meta
    fields = [f for f in opts.concrete_fields if f is not opts.pk]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
    returning = f" RETURNING {quote(opts.pk.column)}"
    unnest = connection.vendor == "postgresql" and not any(hasattr(f, "get_placeholder") for f in fields)
    if unnest:
        # without the type's parameters, as bulk_create: varchar[], not varchar(20)[] (no truncation)
        arrays = ", ".join(f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in fields)
        head += f"SELECT * FROM UNNEST({arrays})"
    else:
        head += "VALUES "
        group = "(" + ", ".join(["%s"] * len(fields)) + ")"
    if connection.vendor == "sqlite":
        batch_size = max(1, min(batch_size, sqlite_variable_limit() // len(fields)))
    rows = driver_rows(fields, objs)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start:start + batch_size]
            values = [row for _, row in zip(batch, rows)]
            if unnest:
                cursor.execute(head + returning, [list(column) for column in zip(*values)])
            else:
                cursor.execute(head + ", ".join([group] * len(batch)) + returning,
                               [value for row in values for value in row])
            for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's statistics of these tables (nothing elsewhere): a bulk read right after a large
    load is otherwise planned as if the tables were empty (measured: 16.7k → 23.1k indicators/s)."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(quote(model._meta.db_table) for model in models))


def column_converter(model: type[Model], name: str):
    """A function turning a raw value of the column, as a plain cursor returns it, into what the ORM would give
    (the backend's and the field's converters, e.g. SQLite's float → Decimal quantized to the field's places,
    0/1 → bool, text → date), memoised per distinct raw value: a batch repeats the same weights, targets and
    dates thousands of times. None when the ORM converts nothing (PostgreSQL: the driver's values already are)."""
    field = model._meta.get_field(name)
    col = field.get_col(model._meta.db_table)
    converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
    if not converters:
        return None

    def convert(value):
        for converter in converters:
            value = converter(value, col, connection)
        return value

    return _memoised(convert)


def delete_rows(column: str, ids: Sequence[int], *models: type[Model]) -> None:
    """DELETE the rows of these models whose `column` is one of `ids`, as plain SQL: the ORM's delete builds
    an IN lookup of thousands of ids through the field machinery for each model (a tenth of a bulk rescore).
    PostgreSQL gets one statement (data-modifying CTEs); SQLite one per model."""
    if not ids or not models:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            where, params = in_ids(quote(column), ids)
            deletes = [f"DELETE FROM {quote(m._meta.db_table)} WHERE {where}" for m in models]
            ctes = ", ".join(f"d{i} AS ({sql})" for i, sql in enumerate(deletes[:-1]))
            cursor.execute((f"WITH {ctes} " if ctes else "") + deletes[-1], params * len(deletes))
            return
        size = sqlite_variable_limit()
        for start in range(0, len(ids), size):
            where, params = in_ids(quote(column), ids[start:start + size])
            for model in models:
                cursor.execute(f"DELETE FROM {quote(model._meta.db_table)} WHERE {where}", params)


def in_ids(column_sql: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column_sql IN (ids)` as SQL and its parameters. PostgreSQL gets one array parameter, unnested as a
    semi-join: `= ANY(array)` tests each row against every id in turn, and on a table just filled (no
    statistics yet) the planner scans it all that way (a 150,000-row score table: 290 ms a batch, the join
    67 ms). SQLite gets one placeholder per id (its IN uses the index)."""
    ids = [int(pk) for pk in ids]
    if connection.vendor == "postgresql":
        return f"{column_sql} IN (SELECT unnest(%s::bigint[]))", [ids]
    return f"{column_sql} IN ({', '.join(['%s'] * len(ids))})", ids


def select_rows(sql: str, params: Sequence = ()) -> list[tuple]:
    """All rows of a plain SELECT (no model instances, no per-row converters)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
