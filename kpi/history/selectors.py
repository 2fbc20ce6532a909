"""Reads for the 变更记录 page: a project's history merged from every kind of record that concerns it.

Every line shows something: a modification lists the fields whose shown value changed (a save that changed
nothing a person can see is left out), a correction what it changed against the row it replaces (one that
re-records the same figures is left out: the new report's own line says it was recorded), a created or
deleted record its summary fields. Evidence files appear as uploaded (上传) and removed (删除).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from budgets.models import BudgetExecution, Project, Role, UnitBudget, UnitMembership
from kpi.formatting import person_name, plain_decimal
from kpi.models import Actual, Evidence, GoalTable, Indicator, Report


@dataclass(frozen=True)
class FieldChange:
    """One changed field: `old` is None for a created or deleted record (its value is shown alone).
    `is_target`: the values are 指标值, shown as a person writes them (`{% target_shown %}`)."""

    label: str
    old: str | None
    new: str
    is_target: bool = False


@dataclass(frozen=True)
class HistoryLine:
    """One line of a project's 变更记录."""

    when: dt.datetime
    who: str
    subject: str
    change: str
    changes: tuple[FieldChange, ...]
    reason: str = ""


CHANGE_TYPES = {"+": "新增", "~": "修改", "-": "删除"}
# What a change is called where the generic word reads wrong: evidence files are uploaded, not “added”.
_CHANGE_TYPES_OF = {"evidence": {"+": "上传", "-": "删除"}}
NOBODY = "系统"
# Fields shown for a created (or deleted) record, per source; a modification shows every changed field.
_SUMMARY_FIELDS = {
    "project": ("name", "year", "budget_initial", "lead"),
    "table": ("scope", "status"),
    "indicator": ("target_raw", "weight", "rule"),
    "report": ("status",),
    "actual": ("value", "met", "grade", "points", "deviation_reason"),
    "execution": ("executed", "fiscal", "carryover", "fiscal_superior", "fiscal_local", "other"),
    "membership": ("user", "role"),
    "evidence": ("original_name", "size"),
    "budget": ("fiscal_superior", "fiscal_local", "other"),
}
# Fields a correction (a new row that `replaces` an older one) is compared on, against the row it replaces:
# everything a person enters.
_CORRECTION_FIELDS = {
    "actual": ("value", "met", "grade", "points", "forecast", "likelihood", "deviation_category", "deviation_reason",
               "needs_rectification", "rectification_measures"),
    "execution": ("executed", "fiscal", "carryover", "fiscal_superior", "fiscal_local", "other"),
}
# Labels where the field's own reads wrong beside the value shown (a size shown in KB, not in bytes).
_LABELS = {("evidence", "size"): "文件大小"}
# Fields never shown: storage details no person reads (a file's random stored name, its checksum).
_HIDDEN_FIELDS = {"evidence": {"file", "sha256"}}


def project_history(*, project: Project) -> list[HistoryLine]:
    """变更记录: the history of the project, its goal table, indicators, reports, actuals, evidence files and
    budget execution, and of the role assignments of its unit, merged newest first.

    A fixed number of queries whatever the number of records: one per kind of record, one per kind of
    object the changed fields point to (users, indicators, …).
    """
    tables = GoalTable.history.filter(project_id=project.pk).values("id")
    indicators = Indicator.history.filter(table_id__in=tables).values("id")
    sources = {
        "project": Project.history.filter(id=project.pk),
        "table": GoalTable.history.filter(project_id=project.pk),
        "indicator": Indicator.history.filter(table_id__in=tables),
        "report": Report.history.filter(table_id__in=tables),
        "actual": Actual.history.filter(indicator_id__in=indicators),
        "evidence": Evidence.history.filter(indicator_id__in=indicators),
        "execution": BudgetExecution.history.filter(project_id=project.pk),
        "membership": UnitMembership.history.filter(unit_id=project.unit_id),
    }
    return _history_lines(sources)


def table_history(*, table: GoalTable) -> list[HistoryLine]:
    """The goal table's 变更记录 as the editor writes it: the table, its indicators and its header (the
    project's name, 负责人 and funds, or the unit's 年度预算), newest first. Constant queries, as above."""
    sources = {
        "table": GoalTable.history.filter(id=table.pk),
        "indicator": Indicator.history.filter(table_id=table.pk),
    }
    if table.project_id:
        sources["project"] = Project.history.filter(id=table.project_id)
    else:
        sources["budget"] = UnitBudget.history.filter(unit_id=table.unit_id, year=table.year)
    return _history_lines(sources)


def _history_lines(sources: dict) -> list[HistoryLine]:
    # per source, per object id: its records oldest first
    records = {
        source: _group_by_object(qs.select_related("history_user").order_by("history_date", "history_id"))
        for source, qs in sources.items()
    }
    indicator_names = {pk: rows[-1].name for pk, rows in records.get("indicator", {}).items()}

    pending = []  # (record, source, [(field, old or _ALONE, new)])
    for source, objects in records.items():
        for rows in objects.values():
            for previous, record in zip([None, *rows], rows):
                pending.append((record, source, _raw_changes(source, record, previous, records[source])))

    labels = _related_labels(pending)
    lines = []
    for record, source, raw in pending:
        changes = []
        for name, old, new in raw:
            shown_new = _display(record, name, new, labels, indicator_names)
            shown_old = None if old is _ALONE else _display(record, name, old, labels, indicator_names)
            if shown_old == shown_new:
                continue  # not a change anyone can see (e.g. a time within the same minute)
            label = _LABELS.get((source, name)) or str(record._meta.get_field(name).verbose_name)
            changes.append(FieldChange(label=label, old=shown_old,
                                       new=shown_new, is_target=name == "target_raw"))
        reason = record.history_change_reason or ""
        if not changes and not reason and record.history_type != "-":
            continue  # saved without changing anything shown, or a correction re-recording the same figures
        lines.append(
            (
                (record.history_date, record.history_id),
                HistoryLine(
                    when=record.history_date,
                    who=_who(source, record, labels),
                    subject=_subject(source, record, indicator_names, labels),
                    change=_CHANGE_TYPES_OF.get(source, CHANGE_TYPES).get(
                        record.history_type, CHANGE_TYPES.get(record.history_type, record.history_type)),
                    changes=tuple(changes),
                    reason=reason,
                ),
            )
        )
    lines.sort(key=lambda pair: pair[0], reverse=True)
    return [line for _key, line in lines]


_ALONE = object()  # marks a value shown without an old one


def _who(source: str, record, labels: dict) -> str:
    """Who made the change: the history's user; for an evidence upload made outside a request, its uploader."""
    if record.history_user:
        return person_name(record.history_user)
    if source == "evidence" and record.history_type == "+" and record.uploaded_by_id:
        user_model = record._meta.get_field("uploaded_by").related_model
        return labels.get((user_model, record.uploaded_by_id), NOBODY)
    return NOBODY


def _group_by_object(queryset) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for record in queryset:
        grouped.setdefault(record.id, []).append(record)
    return grouped


def _raw_changes(source: str, record, previous, objects: dict[int, list]) -> list[tuple]:
    """(field, old, new) of a record: against the previous record of the object, or for a correction
    against the row it replaces as it stood then, or the summary fields of a created or deleted record."""
    hidden = _HIDDEN_FIELDS.get(source, ())
    if record.history_type == "~" and previous is not None:
        return [c for c in _in_field_order(record, record.diff_against(previous)) if c[0] not in hidden]
    if record.history_type == "+" and getattr(record, "replaces_id", None) and source in _CORRECTION_FIELDS:
        replaced = [r for r in objects.get(record.replaces_id, ()) if (r.history_date, r.history_id) <= (
            record.history_date, record.history_id)]
        if replaced:
            delta = record.diff_against(replaced[-1], included_fields=_CORRECTION_FIELDS[source])
            return _in_field_order(record, delta)
    return [
        (name, _ALONE, value)
        for name in _SUMMARY_FIELDS[source]
        if (value := getattr(record, record._meta.get_field(name).attname)) not in (None, "")
    ]


def _in_field_order(record, delta) -> list[tuple]:
    order = {field.name: i for i, field in enumerate(record._meta.fields)}
    return sorted(((c.field, c.old, c.new) for c in delta.changes), key=lambda change: order.get(change[0], 0))


def _related_labels(pending) -> dict[tuple, str]:
    """Labels of every object a shown foreign key points to: one query per related model."""
    wanted: dict[type, set] = {}
    for record, source, raw in pending:
        values = [(name, value) for name, old, new in raw for value in (old, new)]
        if source == "membership":
            values.append(("user", record.user_id))  # named in the subject
        if source == "evidence":
            values.append(("uploaded_by", record.uploaded_by_id))  # who uploaded it, when no one was recorded
        for name, value in values:
            field = record._meta.get_field(name)
            if field.is_relation and field.many_to_one and value is not None and value is not _ALONE:
                wanted.setdefault(field.related_model, set()).add(value)
    labels = {}
    for model, pks in wanted.items():
        for obj in model._default_manager.filter(pk__in=pks):
            labels[(model, obj.pk)] = _object_label(obj)
    return labels


def _object_label(obj) -> str:
    if isinstance(obj, get_user_model()):
        return person_name(obj)
    meta = obj._meta
    if meta.label == "kpi.Report":
        return f"填报 截至 {obj.as_of:%Y-%m-%d}"
    if meta.label == "kpi.GoalTable":
        return f"{obj.year} {obj.get_scope_display()}"
    if meta.label in ("kpi.Actual", "budgets.BudgetExecution"):
        return f"{meta.verbose_name} 截至 {obj.as_of:%Y-%m-%d}（#{obj.pk}）"
    if meta.label == "kpi.Indicator":
        return obj.name
    return str(obj)  # units, projects, policies: no further queries


def _display(record, name: str, value, labels: dict, indicator_names: dict) -> str:
    """A field value as a person reads it: choice labels, names for foreign keys and for the indicators a
    return is about, local times, file sizes."""
    field = record._meta.get_field(name)
    if value is None or value == "" or value == []:
        return "—"
    if name == "review_indicators" and isinstance(value, (list, tuple)):
        return "、".join(f"“{indicator_names.get(_as_int(pk), f'#{pk}')}”" for pk in value)
    if name == "size" and record._meta.object_name == "HistoricalEvidence":
        return _file_size(value)
    if field.is_relation and field.many_to_one:
        return labels.get((field.related_model, value), f"#{value}（已删除）")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value)) or "—"
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _subject(source: str, record, indicator_names: dict, labels: dict) -> str:
    """What the record is about, in Chinese."""
    if source == "project":
        return "项目"
    if source == "budget":
        return f"部门年度预算 {record.year}"
    if source == "table":
        return "绩效目标表"
    if source == "indicator":
        return f"指标“{record.name}”"
    if source == "report":
        kind = "（更正）" if record.replaces_id else ""
        return f"填报{kind} 截至 {record.as_of:%Y-%m-%d}"
    if source == "actual":
        name = indicator_names.get(record.indicator_id, f"#{record.indicator_id}")
        kind = "（更正）" if record.replaces_id and record.history_type == "+" else ""
        return f"实际完成值{kind} · 指标“{name}” 截至 {record.as_of:%Y-%m-%d}"
    if source == "evidence":
        return f"佐证资料 · 指标“{indicator_names.get(record.indicator_id, f'#{record.indicator_id}')}”"
    if source == "execution":
        kind = "（更正）" if record.replaces_id and record.history_type == "+" else ""
        return f"预算执行{kind} 截至 {record.as_of:%Y-%m-%d}"
    user_model = record._meta.get_field("user").related_model
    who = labels.get((user_model, record.user_id), f"#{record.user_id}")
    return f"角色 · {who}（{Role(record.role).label if record.role in Role.values else record.role}）"
