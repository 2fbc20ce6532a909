"""Reads never write: every GET, by every kind of user, runs no INSERT, UPDATE, DELETE or REPLACE.

The test walks the URL configuration (all of it but the admin site), so a new URL without a case here fails
until it gets one. The world holds one of everything, and some goal tables are stale on purpose (an actual
recorded after the last rescore), so the "评分更新中" paths are walked too: a page that finds a stale score
says so, it never rescores.

Logging in writes (the session row, last_login, django-axes' access log): the client logs in before the
capture starts, and each GET only reads the session.
"""
import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from kpi.goals.adjustments import adjustment_propose
from kpi.goals.services import goal_table_approve
from kpi.importers.services import import_job_confirm
from kpi.library.services import library_build
from kpi.models import GoalTable, LibraryEntry, Report
from kpi.reports.services import report_approve, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    IMPORTED,
    ActualFactory,
    BudgetExecutionFactory,
    EvidenceFactory,
    ImportJobFactory,
    ProjectFactory,
    ReportFactory,
    ScoringPolicyFactory,
    SelfEvalReportFactory,
    UnitBudgetFactory,
    UnitFactory,
    UnitMembershipFactory,
    UnitYearFactory,
    UserFactory,
    rescore_stale,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db
YEAR = 2026
JULY, AUGUST, SEPTEMBER = dt.date(YEAR, 7, 31), dt.date(YEAR, 8, 31), dt.date(YEAR, 9, 30)
DEMO_UNIT = "示范市社会保险服务中心"  # the unit of kpi/demo/demo-disclosure-2026.txt: its administrator may upload it
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
ROLES = ["anonymous", "lead", "admin", "reviewer", "superuser", "outsider"]  # outsider: another unit's admin
PROJECT_VALUES = ["120", "96", "40", "92"]  # 培训人次, 合格率, 人均成本, 满意度 (table_with_indicators' rows)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    unit: object
    other_unit: object
    people: dict
    stale_project: object
    fresh_project: object
    bare_project: object
    stale_table: GoalTable
    fresh_table: GoalTable
    unit_table: GoalTable
    submitted: Report
    evidence: object
    jobs: list  # previewed, confirmed, still being read
    bundles: list  # built, queued
    kept: list  # the fresh table's kept xlsx and pdf
    policy: object = None  # a 评分政策 of a year without tables (so the tables' staleness stays as set above)
    entry: object = None  # a 指标库 entry (the library built from the tables above)
    adjustment: object = None  # a proposed 调整 of the approved (fresh) table


def report_and_approve(table, indicators, values, *, lead, admin):
    """The lead records July's values and submits them, the administrator approves."""
    report = ReportFactory(table=table, as_of=JULY, user=lead)
    for indicator, value in zip(indicators, values, strict=True):
        ActualFactory(indicator=indicator, as_of=JULY, value=Decimal(value), report=report, user=lead)
    report_approve(report=report_submit(report=report, user=lead), user=admin)


@pytest.fixture
def world() -> World:
    """A 主管部门 with a unit under it: a project whose table is stale (approved July, submitted August, a
    September draft recorded after rescoring), a project with an approved, freshly scored table, a project
    without a table, the unit's 部门整体 table; evidence, execution, an import job, a built bundle and kept
    自评表. The people: the unit's lead and administrator, a reviewer above, a superuser and an
    administrator of another unit."""
    parent = UnitFactory(name="示范市人力资源和社会保障局")
    unit = UnitFactory(name=DEMO_UNIT, parent=parent)
    other_unit = UnitFactory(parent=parent)
    people = {
        "lead": UserFactory(), "admin": UserFactory(), "reviewer": UserFactory(),
        "superuser": UserFactory(is_superuser=True, is_staff=True), "outsider": UserFactory(),
    }
    UnitMembershipFactory(user=people["lead"], unit=unit, role="lead")
    UnitMembershipFactory(user=people["admin"], unit=unit, role="admin")
    UnitMembershipFactory(user=people["reviewer"], unit=parent, role="reviewer")
    UnitMembershipFactory(user=people["outsider"], unit=other_unit, role="admin")
    lead, admin = people["lead"], people["admin"]

    stale_project = ProjectFactory(unit=unit, name="职业技能培训项目", lead=lead)
    fresh_project = ProjectFactory(unit=unit, name="社保政策宣传项目", lead=lead)
    bare_project = ProjectFactory(unit=unit, name="待编目标表项目", lead=lead)
    stale_table, stale_indicators = table_with_indicators(stale_project)
    fresh_table, fresh_indicators = table_with_indicators(fresh_project, source=IMPORTED)
    goal_table_approve(table=fresh_table, user=admin)
    UnitBudgetFactory(unit=unit, fiscal_superior=Decimal("35.00"), fiscal_local=Decimal("612.40"))
    unit_table, unit_indicators = table_with_indicators(unit=unit, rows=[
        ("履职效能", "质量指标", "社会保险基金稽核覆盖率", ">=95%", Decimal("60")),
        ("服务对象满意度", "服务对象满意度指标", "服务对象满意度", ">=90%", Decimal("30"), "满意度赋分"),
    ])

    report_and_approve(stale_table, stale_indicators, PROJECT_VALUES, lead=lead, admin=admin)
    report_and_approve(fresh_table, fresh_indicators, PROJECT_VALUES, lead=lead, admin=admin)
    report_and_approve(unit_table, unit_indicators, ["97", "93"], lead=admin, admin=admin)
    BudgetExecutionFactory(project=stale_project, as_of=JULY, executed=Decimal("55.00"), user=lead)
    BudgetExecutionFactory(project=fresh_project, as_of=JULY, executed=Decimal("60.00"), user=lead)
    BudgetExecutionFactory(project=None, unit=unit, year=YEAR, as_of=JULY, executed=Decimal("400.00"), user=admin)
    august = ActualFactory(indicator=stale_indicators[0], as_of=AUGUST, value=Decimal("150"), user=lead).report
    submitted = report_submit(report=august, user=lead)
    evidence = EvidenceFactory(indicator=stale_indicators[1], user=lead)
    rescore_stale()

    job = ImportJobFactory(user=admin)
    confirmed = import_job_confirm(job=ImportJobFactory(user=admin))  # its task never runs here: 排队中
    reading = ImportJobFactory(user=admin, read=False)  # 读取中
    bundle = SelfEvalReportFactory(table=None, unit=unit, year=YEAR, user=admin, run=True)
    queued = SelfEvalReportFactory(table=None, unit=unit, year=YEAR, user=admin)
    kept = [SelfEvalReportFactory(table=fresh_table, format=fmt, user=lead) for fmt in ("xlsx", "pdf")]
    UnitYearFactory(unit=unit, year=2025, user=admin)
    # Recorded after the rescore: the stale table's pages show "评分更新中".
    ActualFactory(indicator=stale_indicators[2], as_of=SEPTEMBER, value=Decimal("45"), user=lead)

    for table in (stale_table, fresh_table, unit_table):
        table.refresh_from_db()
    assert stale_table.is_stale and not fresh_table.is_stale and not unit_table.is_stale
    assert bundle.status == bundle.Status.DONE and bundle.file and queued.status == queued.Status.PENDING
    policy = ScoringPolicyFactory(name="示范政策", region="示范市", year=2025, execution_caps=[[80, 89]])
    library_build()
    entry = LibraryEntry.objects.get(name="合格率")
    return World(unit, other_unit, people, stale_project, fresh_project, bare_project, stale_table, fresh_table,
                 unit_table, submitted, evidence, [job, confirmed, reading], [bundle, queued], kept,
                 policy, entry, adjustment_propose(fresh_table, admin, "年中调整任务量", dt.date(YEAR, 7, 1),
                                                   {fresh_indicators[0].pk: {"target_raw": ">=120人次"}}))


def urls(name, *objects, queries=("",)):
    """The URL of each object (a pk, or a tuple of arguments) with each query string."""
    arg_sets = [args if isinstance(args, tuple) else (args,) for args in objects] or [()]
    return [reverse(name, args=args) + query for args in arg_sets for query in queries]


def get_cases(w: World) -> dict[str, list[str]]:
    """Per URL name, the URLs to GET: its objects (stale and fresh, visible and not) with the query strings
    people use."""
    unit, projects = w.unit.pk, (w.stale_project.pk, w.fresh_project.pk, w.bare_project.pk)
    tables = (w.stale_table.pk, w.fresh_table.pk, w.unit_table.pk)
    return {
        "home": urls("home"),
        "scorecards:home": urls("scorecards:home", queries=("", "?year=2026", "?year=2025", "?year=x")),
        "scorecards:unit": urls("scorecards:unit", (unit, YEAR), queries=(
            "", "?sort=-total", "?sort=grade&light=blue", "?name=宣传&lead=张&grade=优", "?grade=none&page=2",
            "?_export=xlsx", "?_export=csv", "?_export=xlsx&sort=-total&light=red", "?_export=json",
        )) + urls("scorecards:unit", (unit, 2025), (w.other_unit.pk, YEAR)),
        "scorecards:project": urls("scorecards:project", *projects),
        "reports:project": urls("reports:project", *projects, queries=("", "?as_of=2026-07-31")),
        "reports:table": urls("reports:table", *tables, queries=(
            "", "?as_of=2026-07-31", "?as_of=2026-08-31", "?as_of=2026-09-30", "?as_of=2025-07-31", "?as_of=x",
        )),
        "reports:execution": urls("reports:execution", w.stale_table.pk),
        "reports:evidence-upload": urls("reports:evidence-upload", (w.stale_table.pk, w.evidence.indicator_id)),
        "reports:review": urls("reports:review", w.submitted.pk),
        "reports:evidence": urls("reports:evidence", w.evidence.pk),
        "goals:lead": urls("goals:lead", *projects),
        "goals:approve": urls("goals:approve", w.stale_table.pk),
        "goals:rollover": urls("goals:rollover", (unit, YEAR)),  # POST only: a GET is 405
        "goals:publish": urls("goals:publish", (unit, YEAR), (unit, 2025), (w.other_unit.pk, YEAR)),
        "goals:publish-text": urls("goals:publish-text", (unit, YEAR), (unit, 2025)),
        "goals:publish-xlsx": urls("goals:publish-xlsx", (unit, YEAR), (unit, 2025)),
        # 申报与审核: the page of each table; its actions are POST only (a GET is 405)
        "goals:workflow": urls("goals:workflow", *tables, 999999),
        "goals:submit": urls("goals:submit", w.stale_table.pk),
        "goals:pass": urls("goals:pass", w.stale_table.pk),
        "goals:return": urls("goals:return", w.stale_table.pk),
        "goals:ratify": urls("goals:ratify", w.stale_table.pk),
        "goals:adjust": urls("goals:adjust", w.fresh_table.pk),
        "goals:adjustment": urls("goals:adjustment", (w.adjustment.pk, "submit"), (w.adjustment.pk, "ratify")),
        "goals:queue": urls("goals:queue"),
        # the goal-table editor (a GET only shows it; findings after a save), the live 指标值 check, 变更记录
        "goals:edit": urls("goals:edit", *tables, queries=("", "?saved=1")),
        "goals:parse-target": urls("goals:parse-target", queries=(
            "", "?target=%3E%3D95%25&level2=质量指标", "?target=有效提升&rule=直接赋分", "?target=" + "长" * 500,
        )),
        "goals:table-history": urls("goals:table-history", *tables),
        "yearclose:unit-year": urls("yearclose:unit-year", (unit, YEAR), (unit, 2025)),
        "history:project": urls("history:project", *projects),
        "monitoring:unit": urls("monitoring:unit", (unit, YEAR), queries=(
            "", "?cut=2026-07-31", "?cut=2026-09-30", "?cut=2025-07-31", "?cut=x",
            "?page=2", "?page=x", "?light=red", "?light=x", "?export=no-such-token",
        )) + urls("monitoring:unit", (unit, 2025)),
        "monitoring:unit-export": urls("monitoring:unit-export", (unit, YEAR)),  # POST only: a GET is 405
        "monitoring:export-progress": urls("monitoring:export-progress", "no-such-token"),
        "monitoring:export-file": urls("monitoring:export-file", "no-such-token"),
        "monitoring:unit-xlsx": urls("monitoring:unit-xlsx", (unit, YEAR), queries=(
            "", "?cut=2026-07-31", "?cut=2026-09-30", "?cut=x",
        )),
        "selfeval:download": urls("selfeval:download", *tables, queries=(
            "", "?format=xlsx", "?format=pdf", "?format=zip",
        )),
        "selfeval:unit": urls("selfeval:unit", (unit, YEAR), (unit, 2025)),
        "selfeval:bundle": urls("selfeval:bundle", (unit, YEAR)),
        "selfeval:progress": urls("selfeval:progress", *[r.pk for r in w.bundles]),
        "selfeval:file": urls("selfeval:file", *[r.pk for r in w.bundles + w.kept]),
        "importers:upload": urls("importers:upload"),
        "importers:template": urls("importers:template", queries=("", "?year=2026", "?year=x")),
        "importers:detail": urls("importers:detail", *[job.pk for job in w.jobs]),
        "importers:confirm": urls("importers:confirm", w.jobs[0].pk),
        "importers:progress": urls("importers:progress", *[job.pk for job in w.jobs]),
        "importers:export": urls("importers:export", *tables),
        "importers:actuals": urls("importers:actuals"),
        "importers:actuals-template": urls("importers:actuals-template", queries=("", "?kind=execution", "?kind=x")),
        "importers:actuals-errors": urls("importers:actuals-errors", "no-such-token"),  # kept a day, then 404
        "importers:actuals-filled-template": urls("importers:actuals-filled-template", queries=(
            "", f"?template-unit={unit}&template-year=2026&template-kind=actuals&template-format=xlsx",
            f"?template-unit={unit}&template-year=2026&template-kind=actuals&template-format=csv"
            "&template-as_of=2026-07-31",
            f"?template-unit={unit}&template-year=2026&template-kind=execution&template-format=xlsx",
            f"?template-unit={w.other_unit.pk}&template-year=2026&template-kind=actuals&template-format=csv",
            "?template-unit=x&template-year=99999&template-kind=x&template-format=x",
        )),
        "reports:withdraw": urls("reports:withdraw", w.submitted.pk),
        "reviews:queue": urls("reviews:queue"),
        "reminders:overdue": urls("reminders:overdue", queries=(
            "", "?month=2026-07", "?month=2025-12", "?month=x", f"?unit={unit}", f"?unit={w.other_unit.pk}", "?unit=x",
        )),
        "monitoring:home": urls("monitoring:home", queries=("", "?year=2026&month=7", "?year=2025", "?month=13",
                                                            "?year=x")),
        "healthz": urls("healthz"),
        "login": urls("login", queries=("", "?next=/scorecards/")),
        "logout": urls("logout"),
        # The JSON API, read with the session here (tests/kpi/api/test_auth.py reads it with a token: no "last
        # used" time is written either). Its POST-only endpoints answer a GET 405 (401 to nobody).
        "api:units": urls("api:units"),
        "api:tables": urls("api:tables", queries=(
            "", "?year=2026", f"?year=2026&unit={unit}", f"?unit={w.other_unit.pk}", "?year=x", "?page_size=1&page=2",
        )),
        "api:table": urls("api:table", *tables),
        "api:table-reports": urls("api:table-reports", *tables),
        "api:report-submit": urls("api:report-submit", w.submitted.pk),
        "api:report-withdraw": urls("api:report-withdraw", w.submitted.pk),
        "api:report-approve": urls("api:report-approve", w.submitted.pk),
        "api:report-return": urls("api:report-return", w.submitted.pk),
        "api:project-execution": urls("api:project-execution", *projects),
        "api:unit-selfeval": urls("api:unit-selfeval", (unit, YEAR), (unit, 2025), (w.other_unit.pk, YEAR)),
        "api:schema": urls("api:schema", queries=("", "?format=json")),
        "api:docs": urls("api:docs"),
        "api:tokens": urls("api:tokens"),
        "api:token-revoke": urls("api:token-revoke", 1),  # POST only: a GET is 405 whatever the token
        # 评分政策: finance-side users (the reviewer, the superuser); 403 to the others
        "policies:list": urls("policies:list"),
        "policies:create": urls("policies:create"),
        "policies:edit": urls("policies:edit", w.policy.pk),
        "policies:copy": urls("policies:copy", w.policy.pk),
        # 指标库: every user of the tree reads it; curation pages are for reviewers (403 to the others)
        "library:list": urls("library:list", queries=(
            "", "?q=合格", "?q=" + "长" * 200, "?level1=产出指标&recommended=1", "?level2=x&page=2", "?sort=-uses_count",
        )),
        "library:search": urls("library:search", queries=("", "?q=合格率", "?q=" + "长" * 200, "?level1=产出指标&limit=x")),
        "library:detail": urls("library:detail", w.entry.pk, 999999),
        "library:edit": urls("library:edit", w.entry.pk),
        "library:merge": urls("library:merge", w.entry.pk, queries=("", "?q=率")),
        "library:recommend": urls("library:recommend", w.entry.pk),  # POST only: a GET is 405
    }


def url_names() -> list[str]:
    """Every URL pattern's name (namespace:name) outside the admin site; an unnamed one by its pattern."""
    names = []

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                if "admin" not in str(pattern.pattern):
                    inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                    walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                names.append(namespace + (pattern.name or f"<unnamed {prefix}{pattern.pattern}>"))

    walk(get_resolver().url_patterns)
    return names


def is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(WRITES)


def test_every_url_has_a_case():
    # Any primary key reverses: the names of the cases need no objects.
    anything = SimpleNamespace(pk=1, indicator_id=1)
    world = World(**{field.name: [anything] if field.type is list else anything for field in fields(World)})
    assert sorted(url_names()) == sorted(get_cases(world))


def walk(client, cases) -> tuple[list, dict, set]:
    """GET every case; returns the writes seen (url, status, sql), the status of every URL and the URLs
    that said "评分更新中"."""
    writes, statuses, updating = [], {}, set()
    for case_urls in cases.values():
        for url in case_urls:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
                # A download is sent (and closed) as it is read.
                content = b"".join(response.streaming_content) if response.streaming else response.content
            statuses[url] = response.status_code
            if "评分更新中".encode() in content:
                updating.add(url)
            writes += [(url, response.status_code, q["sql"]) for q in queries.captured_queries if is_write(q["sql"])]
    return writes, statuses, updating


def test_no_get_writes_a_row_whoever_asks(world):
    """One world, every role in turn (each with its own client, logged in before anything is captured)."""
    cases = get_cases(world)
    writes, statuses, updating = [], {}, {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.people[role])  # writes the session (and axes' log): before the capture
        role_writes, statuses[role], updating[role] = walk(client, cases)
        writes += [(role, *write) for write in role_writes]
    assert writes == [], "GETs wrote:\n" + "\n".join(f"{r} {u} [{s}]: {sql}" for r, u, s, sql in writes)

    assert {code for codes in statuses.values() for code in codes.values()} <= {200, 302, 400, 401, 403, 404, 405, 409}
    api = {url for url in statuses["anonymous"] if url.startswith("/api/v1/")}
    anonymous = {url: code for url, code in statuses["anonymous"].items() if url not in api}
    assert set(anonymous.values()) <= {200, 302, 405}  # the login page, else sent to log in
    # The JSON API asks nobody for credentials (401, WWW-Authenticate: Bearer); its docs and token pages send to log in.
    assert {statuses["anonymous"][url] for url in api} <= {302, 401}
    # The superuser may see every object: the cases really reach the pages.
    assert {url for url, code in statuses["superuser"].items() if code == 404} == {
        # a project without a goal table has no report page; a queued bundle has no file yet; an unknown kind
        *urls("reports:project", world.bare_project.pk, queries=("", "?as_of=2026-07-31")),
        reverse("selfeval:file", args=[world.bundles[1].pk]),
        reverse("importers:actuals-template") + "?kind=x",
        # the errors of a refused import nobody uploaded (or expired)
        *urls("importers:actuals-errors", "no-such-token"),
        # an export token nobody started (or expired): no progress, no file
        *urls("monitoring:export-progress", "no-such-token"), *urls("monitoring:export-file", "no-such-token"),
        # no goal table in those years: no self-evaluation
        *urls("api:unit-selfeval", (world.unit.pk, 2025), (world.other_unit.pk, YEAR)),
        # no such goal table
        reverse("goals:workflow", args=[999999]),
        # no such 指标库 entry
        reverse("library:detail", args=[999999]),
        # no approved goal table in 2025: nothing to publish
        *urls("goals:publish-text", (world.unit.pk, 2025)), *urls("goals:publish-xlsx", (world.unit.pk, 2025)),
    }
    # The stale table's pages said "评分更新中" (its 自评表 waits for the rescore); the fresh table's did not.
    stale, fresh = world.stale_project.pk, world.fresh_project.pk
    assert {*urls("scorecards:project", stale), *urls("selfeval:download", world.stale_table.pk)} <= updating["admin"]
    assert not {*urls("scorecards:project", fresh), *urls("selfeval:download", world.fresh_table.pk)} & updating["admin"]
    assert {*urls("scorecards:unit", (world.unit.pk, YEAR)), *urls("scorecards:home"),
            *urls("selfeval:unit", (world.unit.pk, YEAR))} <= updating["reviewer"]
    assert statuses["admin"][urls("selfeval:download", world.stale_table.pk, queries=("?format=pdf",))[0]] == 409
