"""What an importer reads from a document, before anything is written: plain data, no Django.

Every importer (disclosure text, Excel template) returns a `ParsedDocument`; `checks.finalize` then fills
defaults (rules, old-format weights, a comparator or unit published beside the target) and adds the
review warnings and the errors; the import service writes it.

Warnings never stop anything: a person reviews them. Errors say what stops a piece from being imported:
`ParsedTable.errors` that table (the others still import), `ParsedDocument.errors` what belongs to no
table (two tables of one project, say). Every message is in Chinese and names the table, the source line
and the field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

PROJECT = "project"
UNIT = "unit"


class NotADisclosure(ValueError):
    """The file is not a goal-table document at all; the message (Chinese) says why."""


@dataclass
class ParsedIndicator:
    """One indicator row as published. `target` is the 指标值 text; `line` its source line (or sheet row)."""

    level1: str
    level2: str
    name: str
    target: str
    basis: str = ""
    last_year: str = ""
    weight: Decimal | None = None  # None: the table publishes no weights (old format)
    rule: str = ""  # as published; "" when the table has no rule column
    evidence: str = ""
    line: int = 0
    # 指标性质 as published in its own column (正向/反向/≥/≤ …); "" when the table has no such column.
    direction: str = ""
    # 计量单位 of a target written without one: from the table's 计量单位 column (as read) or, set by
    # `checks.finalize`, from the indicator's name (参保人数（万人） with ≥80.9 → 万人). "" otherwise.
    unit: str = ""
    # The 指标值 exactly as published when `target` had to be completed (a comparator given in the
    # 指标性质 column or in the name put in front: 80.9 → ≥80.9); "" when `target` is as published.
    target_published: str = ""

    @property
    def published(self) -> str:
        """The 指标值 as published (for the record)."""
        return self.target_published or self.target


@dataclass
class ParsedTable:
    """One 项目支出绩效目标表 (scope "project") or the 部门整体绩效目标表 (scope "unit")."""

    scope: str
    project: str | None = None  # 项目名称 (None for the unit table)
    lead: str | None = None  # 项目负责人 as published
    overall_goal: str = ""  # 项目总体目标 / 年度绩效目标
    # 万元, with the decimals published (up to 4). Project: 年度预算总额 / 其中财政拨款 / 其他资金.
    # Unit: 合计 / 财政资金 (上级 + 本级) / 其他资金.
    total: Decimal | None = None
    fiscal: Decimal | None = None
    other: Decimal | None = None
    # Unit table only: 财政资金 split, and the contact block.
    fiscal_superior: Decimal | None = None
    fiscal_local: Decimal | None = None
    contact: str = ""
    phone: str = ""
    indicators: list[ParsedIndicator] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    line: int = 0  # where the table starts in the source
    weights_defaulted: bool = False  # set by checks.finalize for old tables without weights
    # Why this table cannot be imported (empty when it can); each message names the table and the line.
    errors: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How warnings name this table."""
        if self.scope != PROJECT:
            return "部门整体绩效目标表"
        if self.project:
            return f"项目“{self.project}”"
        return f"第 {self.line} 行开始的项目支出绩效目标表" if self.line else "项目支出绩效目标表"


@dataclass
class ParsedDocument:
    unit: str  # 预算单位 / 部门名称
    year: int | None
    tables: list[ParsedTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # document-level (e.g. a row outside any table)
    source: str = ""  # file name, for the record
    errors: list[str] = field(default_factory=list)  # what belongs to no table (two tables of one project)
