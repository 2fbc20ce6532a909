"""Every URL that names an object answers 404 to a user of another unit: never someone else's data.

The test walks the URL configuration, so a new object URL without a case here fails until it gets one.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver

from budgets.services import membership_grant
from kpi.api.services import token_create
from kpi.goals.adjustments import adjustment_propose
from kpi.goals.services import goal_table_approve
from kpi.library.keys import library_key
from kpi.library.services import library_build
from kpi.models import LibraryEntry
from kpi.reports.services import actual_record, evidence_add
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    IMPORTED,
    ImportJobFactory,
    ProjectFactory,
    ScoringPolicyFactory,
    UnitFactory,
    UserFactory,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    """Unit A with everything in it; an administrator, a lead and a reviewer of unit B."""
    admin_a, lead_a = UserFactory(), UserFactory()
    project = ProjectFactory(lead=lead_a)
    unit = project.unit
    membership_grant(user=admin_a, unit=unit, role="admin")
    membership_grant(user=lead_a, unit=unit, role="lead")
    table, indicators = table_with_indicators(project)
    actual = actual_record(indicator=indicators[1], as_of=JULY, value=Decimal("96"), user=lead_a)
    evidence = evidence_add(indicator=indicators[1], upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF"),
                                     user=lead_a, max_bytes=10_000)
    from pathlib import Path

    demo = Path(__file__).resolve().parents[1] / "kpi" / "demo" / "demo-disclosure-2026.txt"
    job = ImportJobFactory(user=UserFactory(is_superuser=True), data=demo.read_bytes(), filename=demo.name)
    from kpi.selfeval import services as selfeval

    bundle = selfeval.selfeval_bundle_start(unit=unit, year=2026)
    token, _ = token_create(user=admin_a, name="A 的令牌", access="write")
    # A 评分政策 scoring unit A's tables: not another tree's reviewer's to open, copy or change.
    policy = ScoringPolicyFactory(name="A 的政策", year=2026)
    # A 指标库 entry used only in unit A's tree: another tree's users never see it.
    library_build()
    entry = LibraryEntry.objects.get(key=library_key(indicators[1].level2, indicators[1].name))
    # An approved (imported) table of unit A with a proposed 调整.
    approved, approved_rows = table_with_indicators(ProjectFactory(unit=unit), source=IMPORTED)
    goal_table_approve(table=approved, user=admin_a)
    adjustment = adjustment_propose(approved, admin_a, "年中调整", dt.date(2026, 7, 1),
                                    {approved_rows[0].pk: {"target_raw": ">=120人次"}})
    unit_b = UnitFactory()
    outsiders = {}
    for role in ("admin", "lead", "reviewer"):
        outsiders[role] = UserFactory()
        membership_grant(user=outsiders[role], unit=unit_b, role=role)
    args = {
        "scorecards:project": [project.pk],
        "reports:project": [project.pk],
        "reports:table": [table.pk],
        "reports:execution": [table.pk],
        "reports:evidence-upload": [table.pk, indicators[1].pk],
        "reports:review": [actual.report_id],
        "reports:withdraw": [actual.report_id],
        "reports:evidence": [evidence.pk],
        "yearclose:unit-year": [unit.pk, 2026],
        "goals:lead": [project.pk],
        "history:project": [project.pk],
        "goals:approve": [table.pk],
        "goals:rollover": [unit.pk, 2026],
        "goals:publish": [unit.pk, 2026],
        "goals:publish-text": [unit.pk, 2026],
        "goals:publish-xlsx": [unit.pk, 2026],
        "goals:edit": [table.pk],
        "goals:table-history": [table.pk],
        "goals:workflow": [table.pk],
        "goals:submit": [table.pk],
        "goals:pass": [table.pk],
        "goals:return": [table.pk],
        "goals:ratify": [table.pk],
        "goals:adjust": [approved.pk],
        "goals:adjustment": [adjustment.pk, "submit"],
        "importers:detail": [job.pk],
        "importers:confirm": [job.pk],
        "importers:progress": [job.pk],
        "importers:export": [table.pk],
        "monitoring:unit": [unit.pk, 2026],
        "monitoring:unit-xlsx": [unit.pk, 2026],
        "monitoring:unit-export": [unit.pk, 2026],
        "selfeval:download": [table.pk],
        "selfeval:unit": [unit.pk, 2026],
        "selfeval:bundle": [unit.pk, 2026],
        "selfeval:progress": [bundle.pk],
        "selfeval:file": [bundle.pk],
        "scorecards:unit": [unit.pk, 2026],
        # the JSON API: the same objects through /api/v1/ (a method a URL does not have is a 404 too)
        "api:table": [table.pk],
        "api:table-reports": [table.pk],
        "api:report-submit": [actual.report_id],
        "api:report-withdraw": [actual.report_id],
        "api:report-approve": [actual.report_id],
        "api:report-return": [actual.report_id],
        "api:project-execution": [project.pk],
        "api:unit-selfeval": [unit.pk, 2026],
        "api:token-revoke": [token.pk],
        "policies:edit": [policy.pk],
        "policies:copy": [policy.pk],
        "library:detail": [entry.pk],
        "library:edit": [entry.pk],
        "library:recommend": [entry.pk],
        "library:merge": [entry.pk],
    }
    return {"args": args, "outsiders": outsiders}


def object_url_names():
    names = []

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                if "admin" not in str(pattern.pattern):
                    inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                    walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif "<int:" in prefix + str(pattern.pattern):
                names.append(namespace + pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_object_url_has_a_case(world):
    assert sorted(object_url_names()) == sorted(world["args"])


@pytest.mark.parametrize("role", ["admin", "lead", "reviewer"])
def test_users_of_another_unit_get_404_everywhere(client, world, role):
    from django.urls import reverse

    client.force_login(world["outsiders"][role])
    for name, args in world["args"].items():
        url = reverse(name, args=args)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (404, 405), (name, method.__name__, response.status_code)
            if response.status_code == 405:  # a POST-only URL: the POST must be the 404
                assert method.__name__ == "get", name
