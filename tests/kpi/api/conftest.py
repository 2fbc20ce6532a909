"""A 主管部门 with a unit under it and another unit beside it. The people: the unit's lead, its administrator, a
reviewer above, a superuser and an administrator of the other unit ("outsider"), each with a read-write token,
and a read-only token of the administrator. The lead's project has a goal table whose indicators take each
kind of entry (a count, a rate, a deadline, a graded quality, a satisfaction); the unit has its 部门整体 table;
the other unit a project of its own.

`api(role)` is a client that sends the role's token (`api("readonly")`, `api(None)` for nobody)."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from budgets.services import membership_grant
from kpi.api.services import token_create
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitBudgetFactory, UnitFactory, UserFactory, table_with_indicators

YEAR = 2026
JULY = dt.date(YEAR, 7, 31)
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("30")),
    ("产出指标", "质量指标", "合格率", ">=95%", Decimal("20")),
    ("产出指标", "时效指标", "完成时间", "2026年10月31日前", Decimal("10")),
    ("效益指标", "社会效益指标", "服务质量", "有效提升", Decimal("20")),
    ("满意度指标", "满意度指标", "满意度", ">=90%", Decimal("10"), "满意度赋分"),
]
ROLES = ("lead", "admin", "reviewer", "superuser", "outsider")


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def fresh_throttle_counts(monkeypatch):
    """The throttles count in the site's cache, which outlives a test (and under CI is the broker's Redis, never
    to be flushed): here each test counts in a cache of its own, from zero."""
    monkeypatch.setattr(SimpleRateThrottle, "cache", LocMemCache(f"api-throttle-{uuid.uuid4()}", {}))


class Api:
    """A client of the API: JSON in and out, with a bearer token (or a session, or nothing)."""

    def __init__(self, secret: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"authorization": f"Bearer {secret}"} if secret else {}

    def get(self, url, **headers):
        return self.client.get(url, headers={**self.headers, **headers})

    def post(self, url, data=None, **headers):
        body = "" if data is None else json.dumps(data, ensure_ascii=False)
        return self.client.post(url, data=body, content_type="application/json", headers={**self.headers, **headers})


@dataclass
class World:
    people: dict
    secrets: dict  # role (and "readonly") → the token's secret
    tokens: dict
    parent: object
    unit: object
    other_unit: object
    project: object
    table: object
    indicators: list
    unit_table: object
    unit_indicators: list
    other_project: object
    other_table: object

    def named(self, name):
        return next(i for i in self.indicators if i.name == name)


@pytest.fixture
def world() -> World:
    parent = UnitFactory(name="上级主管部门", code="PARENT")
    unit = UnitFactory(name="测试单位", code="UNIT-A", parent=parent)
    other_unit = UnitFactory(name="另一单位", code="UNIT-B", parent=parent)
    people = {
        "lead": UserFactory(username="lead", first_name="芳", last_name="王"),
        "admin": UserFactory(username="admin1", first_name="敏", last_name="刘"),
        "reviewer": UserFactory(username="reviewer", first_name="静", last_name="陈"),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "outsider": UserFactory(username="outsider"),
    }
    membership_grant(user=people["lead"], unit=unit, role="lead")
    membership_grant(user=people["admin"], unit=unit, role="admin")
    membership_grant(user=people["reviewer"], unit=parent, role="reviewer")
    membership_grant(user=people["outsider"], unit=other_unit, role="admin")
    project = ProjectFactory(unit=unit, lead=people["lead"], name="培训项目")
    table, indicators = table_with_indicators(project, rows=ROWS)
    UnitBudgetFactory(unit=unit, fiscal_superior=Decimal("35"), fiscal_local=Decimal("600"))
    unit_table, unit_indicators = table_with_indicators(unit=unit, rows=[
        ("履职效能", "质量指标", "稽核覆盖率", ">=95%", Decimal("60")),
        ("服务对象满意度", "服务对象满意度指标", "服务对象满意度", ">=90%", Decimal("30"), "满意度赋分"),
    ])
    other_project = ProjectFactory(unit=other_unit, name="另一单位的项目")
    other_table, _ = table_with_indicators(other_project)
    tokens, secrets = {}, {}
    for role, user in people.items():
        tokens[role], secrets[role] = token_create(user=user, name=f"{role} 的令牌", access="write")
    tokens["readonly"], secrets["readonly"] = token_create(user=people["admin"], name="只读", access="read")
    return World(people, secrets, tokens, parent, unit, other_unit, project, table, indicators, unit_table,
                 unit_indicators, other_project, other_table)


@pytest.fixture
def api(world):
    def make(role: str | None) -> Api:
        return Api(world.secrets[role] if role else None)

    return make


def entry(indicator, **fields) -> dict:
    return {"indicator": indicator.pk, **fields}


def close_year(unit, user=None):
    """关账 as the ground floor records it."""
    from budgets.services import unit_year_for_update, unit_year_set_closed

    return unit_year_set_closed(unit_year=unit_year_for_update(unit=unit, year=YEAR), closed=True, user=user)


def open_year(unit, user=None):
    """Reopen the year closed by `close_year`."""
    from budgets.services import unit_year_for_update, unit_year_set_closed

    return unit_year_set_closed(unit_year=unit_year_for_update(unit=unit, year=YEAR), closed=False, user=user,
                                reason="补录数据")
