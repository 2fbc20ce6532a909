"""The body rows of a django-tables2 table rendered in Python (``{% table_body_rows table %}``, used by
``templates/scorecards/table.html``): the same HTML as django_tables2/table.html's row loop, cell by cell
through the library's `BoundRow.items()` (so render_* methods, ordering, pagination and the export are
untouched), without a template variable lookup per cell and with a column's ``td`` attributes computed once
per column instead of once per cell (django-tables2 rebuilds the th, td and tf attributes of a column for
every cell) — unless they hold a callable, which may depend on the record or value and is then asked per cell.
On a page of 25 rows × 11 columns that was half the unit scorecard's rendering time.
"""
from django import template
from django.template.base import render_value_in_context
from django.templatetags.l10n import localize, unlocalize
from django.utils.safestring import mark_safe

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


@register.simple_tag(takes_context=True)
def table_body_rows(context, table) -> str:
    """Every row of the table's current page as ``<tr>…</tr>`` (the empty string when there is none)."""
    columns = list(table.columns)
    static = {column.name: _static_td(column) for column in columns}
    out = []
    for row in table.paginated_rows:
        out.append(f"<tr {row.attrs.as_html()}>")
        for column, cell in row.items():
            td = static[column.name]
            if td is None:
                td = column.attrs["td"].as_html()  # after items() set current_record/current_value
            # As the template's {% if column.localize == None %}{{ cell }}{% elif … %}{{ cell|localize }}…
            if column.localize is not None:
                cell = localize(cell) if column.localize else unlocalize(cell)
            out.append(f"<td {td}>{render_value_in_context(cell, context)}</td>")
        out.append("</tr>\n")
    return mark_safe("".join(out))
