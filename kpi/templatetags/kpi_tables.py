"""The body rows of a django-tables2 table rendered in Python (``{% table_body_rows table %}``, used by
``templates/scorecards/table.html``): the same HTML as django_tables2/table.html's row loop, cell by cell
through the library's `BoundRow.items()` (so render_* methods, ordering, pagination and the export are
untouched), without a template variable lookup per cell and with a column's ``td`` attributes computed once
per column instead of once per cell (django-tables2 rebuilds the th, td and tf attributes of a column for
every cell) — unless they hold a callable, which may depend on the record or value and is then asked per cell.
On a page of 25 rows × 11 columns that was half the unit scorecard's rendering time.

Cells of a plain column — a one-name accessor, no link, no many-to-many, ``td`` attributes the same for every
cell — are rendered by a `_Cell` prepared once per column: the same steps as `BoundRow.get_cell` (the field's
choices display, the empty values, the render method called with the arguments its signature asks for) without
the lookups the library repeats per cell (`table.columns[name]` scans the sequence: quadratic in the columns,
the column's accessor, default and signature). Any other column goes through `BoundRow.get_cell` as before.
"""
from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize, unlocalize
from django.utils.safestring import mark_safe
from django_tables2 import utils as tables_utils
from django_tables2.columns import ManyToManyColumn
from django_tables2.columns.linkcolumn import BaseLinkColumn

register = template.Library()


def _has_callable(attrs) -> bool:
    if callable(attrs):
        return True
    return isinstance(attrs, dict) and any(_has_callable(v) for v in attrs.values())


def _td_source(bound_column) -> dict:
    """The dict `BoundColumn.attrs` builds the ``td`` attributes from: the column's over the table's,
    ``td`` else ``cell``."""
    attrs = dict(bound_column._table.attrs)
    attrs.update(dict(bound_column.column.attrs))
    return attrs.get("td", attrs.get("cell", {}))


def _static_td(bound_column) -> str | None:
    """The column's ``<td>`` attributes as HTML when they are the same for every cell, else None."""
    if _has_callable(_td_source(bound_column)):
        return None
    return bound_column.attrs["td"].as_html()


_CELL_ARGUMENTS = ("value", "record", "column", "bound_column", "bound_row", "table")


class _Cell:
    """One plain column's cells (see the module docstring), or None from `prepare` when it is not plain."""

    @classmethod
    def prepare(cls, bound_column, table) -> "_Cell | None":
        column = bound_column.column
        bits = tables_utils.Accessor(bound_column.accessor).bits
        if bound_column.link or isinstance(column, (BaseLinkColumn, ManyToManyColumn)) or len(bits) != 1:
            return None
        return cls(bound_column, table, bits[0])

    def __init__(self, bound_column, table, name: str):
        self.bound_column, self.column, self.table, self.name = bound_column, bound_column.column, table, name
        self.accessor = tables_utils.Accessor(name)
        self.default = bound_column.default
        self.empty_values = self.column.empty_values
        self.render = bound_column.render
        # As call_with_appropriate: every argument when the method takes **kwargs, else exactly those it names
        # (and None when it names one the library does not offer).
        wanted, catch_all = tables_utils.signature(self.render)
        self.wanted = _CELL_ARGUMENTS if catch_all else tuple(wanted)
        self.callable_fails = not catch_all and any(arg not in _CELL_ARGUMENTS for arg in wanted)
        self._display: dict[type, str | None] = {}

    def _display_method(self, model: type) -> str | None:
        """`get_FOO_display` when the record's field has choices (as `_get_and_render_with` asks per cell)."""
        if model not in self._display:
            method = None
            try:
                field = model._meta.get_field(self.name)
                if getattr(field, "choices", ()) and getattr(model, f"get_{self.name}_display", None):
                    method = f"get_{self.name}_display"
            except FieldDoesNotExist:
                pass
            self._display[model] = method
        return self._display[model]

    def _value(self, record):
        if isinstance(record, models.Model):
            display = self._display_method(type(record))
            if display is not None:
                return getattr(record, display)()
        try:
            # Accessor.resolve of one name on the record (dict key first, then attribute; callables called).
            return self.accessor.resolve(record)
        except Exception:  # as the library: a value that cannot be resolved is the column's default
            return None

    def __call__(self, row):
        record = row.record
        value = self._value(record)
        if value in self.empty_values:
            return self.default
        if self.callable_fails:
            return None
        offered = {"value": value, "record": record, "column": self.column, "bound_column": self.bound_column,
                   "bound_row": row, "table": self.table}
        return self.render(**{name: offered[name] for name in self.wanted})


@register.simple_tag(takes_context=True)
def table_body_rows(context, table) -> str:
    """Every row of the table's current page as ``<tr>…</tr>`` (the empty string when there is none)."""
    columns = list(table.columns)
    static = {column.name: _static_td(column) for column in columns}
    cells = {column.name: _Cell.prepare(column, table) if static[column.name] is not None else None
             for column in columns}
    out = []
    for row in table.paginated_rows:
        out.append(f"<tr {row.attrs.as_html()}>")
        for column in columns:
            cell_of = cells[column.name]
            if cell_of is not None:
                cell, td = cell_of(row), static[column.name]
            else:
                # The library's own path; a callable td attribute reads the current record and value.
                column.current_value = cell = row.get_cell(column.name)
                column.current_record = row.record
                td = static[column.name] or column.attrs["td"].as_html()
            # As the template's {% if column.localize == None %}{{ cell }}{% elif … %}{{ cell|localize }}…
            if column.localize is not None:
                cell = localize(cell) if column.localize else unlocalize(cell)
            out.append(f"<td {td}>{render_value_in_context(cell, context)}</td>")
        out.append("</tr>\n")
    return mark_safe("".join(out))
