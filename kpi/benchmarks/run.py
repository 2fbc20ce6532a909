"""`bench_pages` from start to end: the world in a throwaway database, the pages in process, the concurrent
load on gunicorn, the save-to-score latency during a bulk rescore, the bulk import rate; one JSON document.

The document (keys exactly as issue 12 names them; a page's object also says "bytes", "status", "samples"
and, on a failure, "note"; the roll-up's also the 主管部门 reviewer's tree under "department"):
{"database", "reference_p50_ms", "pages": {"unit_scorecard", "unit_scorecard_sorted", "rollup", "project",
"monitoring", "monitoring_xlsx", "selfeval_unit"}, "concurrent": {"users", "rps", "p95_ms", "errors"},
"save_to_score_during_bulk_ms", "import_actuals_rows_per_s"}.
"""
from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from .database import database_url, throwaway_database
from .jobs import import_rate, save_to_score_during_bulk
from .load import get_once, load_run, no_load, session_cookies
from .servers import (
    StartError,
    celery_worker,
    collected_static,
    gunicorn_server,
    private_broker,
    production_env,
)
from .timing import get_file, logged_in_client, measure_page
from .world import World, world_build

PAGE_KEYS = ("unit_scorecard", "unit_scorecard_sorted", "rollup", "project", "monitoring", "monitoring_xlsx",
             "selfeval_unit")
WORKER_PROCESSES = 2  # the measured machine's two workers
HOSTS = ["testserver", "127.0.0.1", "localhost"]


@dataclass
class Options:
    projects: int = 1000
    units: int = 200
    concurrency: int = 20
    repeat: int = 20
    seconds: float = 10.0
    page_seconds: float | None = 60.0  # per page at most (the slow ones stop after three timed GETs then)


@dataclass
class Outcome:
    document: dict
    failures: list[str] = field(default_factory=list)
    database_name: str = ""


def bench_pages(options: Options, *, say) -> Outcome:
    """Everything, in a throwaway database dropped at the end (on error and Ctrl-C too)."""
    outcome = Outcome(document={"database": connection.vendor})
    with throwaway_database() as db:
        outcome.database_name = db.name
        say(f"临时数据库（{connection.vendor}）：{db.name}")
        started = time.perf_counter()
        world = world_build(projects=options.projects, units=options.units, say=say)
        say(f"数据已建好并评分（{world.counts['scores']} 个得分），用时 {time.perf_counter() - started:.1f} 秒")
        reference, pages = _pages(world, options, say=say, failures=outcome.failures)
        outcome.document.update(reference_p50_ms=reference, pages=pages)
        with tempfile.TemporaryDirectory(prefix="jixiao-bench-") as folder, private_broker(Path(folder)) as broker:
            outcome.document["concurrent"] = _concurrent(world, options, broker=broker, folder=Path(folder),
                                                         say=say, failures=outcome.failures)
            outcome.document["save_to_score_during_bulk_ms"] = _save_to_score(world, broker=broker,
                                                                              folder=Path(folder), say=say,
                                                                              failures=outcome.failures)
            outcome.document["import_actuals_rows_per_s"] = _import(world, say=say, failures=outcome.failures)
        say("删除临时数据库…")
    return outcome


def page_urls(world: World) -> dict[str, tuple[object, str]]:
    """Each measured page: the user who opens it and its URL."""
    unit = {"unit_pk": world.big_unit_id, "year": world.year}
    scorecard = reverse("scorecards:unit", kwargs=unit)
    return {
        "unit_scorecard": (world.admin, scorecard),
        "unit_scorecard_sorted": (world.admin, f"{scorecard}?sort=-total"),  # 总分, highest first
        "rollup": (world.finance, f"{reverse('scorecards:home')}?year={world.year}"),
        "project": (world.lead, reverse("scorecards:project", kwargs={"pk": world.lead_project_id})),
        "monitoring": (world.admin, reverse("monitoring:unit", kwargs=unit)),
        "monitoring_xlsx": (world.admin, reverse("monitoring:unit-xlsx", kwargs=unit)),
        "selfeval_unit": (world.admin, reverse("selfeval:unit", kwargs=unit)),
    }


def _pages(world: World, options: Options, *, say, failures: list[str]) -> tuple[float | None, dict]:
    pages = {}
    # As production serves them: no DEBUG (its query log and error pages cost more than some pages).
    with override_settings(DEBUG=False, ALLOWED_HOSTS=HOSTS):
        login = measure_page(Client(), reverse("login"), repeat=options.repeat, budget_seconds=options.page_seconds)
        say(f"  登录页（参照）：p50 {login.p50_ms} ms")
        if login.status != 200:
            failures.append(f"登录页返回 {login.status} {login.note}")
        urls = page_urls(world)
        for key in PAGE_KEYS:
            user, url = urls[key]
            fetch = get_file if key == "monitoring_xlsx" else None
            figures = measure_page(logged_in_client(user), url, repeat=options.repeat,
                                   budget_seconds=options.page_seconds, **({"fetch": fetch} if fetch else {}))
            pages[key] = figures.as_json()
            if key == "rollup":
                department = measure_page(logged_in_client(world.reviewer), url, repeat=options.repeat,
                                          budget_seconds=options.page_seconds)
                pages[key]["department"] = department.as_json()
                if department.status != 200 or department.note:
                    failures.append(f"rollup（主管部门）{url} 返回 {department.status} {department.note}".rstrip())
            say(f"  {key}：p50 {figures.p50_ms} ms，p95 {figures.p95_ms} ms，{figures.queries} 次查询，"
                f"{figures.bytes} 字节（{figures.samples} 次）")
            if figures.status != 200 or figures.note:
                failures.append(f"{key} {url} 返回 {figures.status} {figures.note}".rstrip())
    return login.p50_ms, pages


def _concurrent(world: World, options: Options, *, broker: dict, folder: Path, say, failures: list[str]) -> dict:
    if options.concurrency <= 0:
        return no_load().as_json()
    secret = secrets.token_urlsafe(50)
    env = production_env(database_url=database_url(), broker_env=broker, secret_key=secret)
    path = page_urls(world)["unit_scorecard"][1]
    try:
        static_root = collected_static(env, say)
        with gunicorn_server(env=env, static_root=static_root, folder=folder, say=say) as port:
            cookies = session_cookies(world.admin, count=options.concurrency, secret_key=secret)
            status = get_once(port, path, cookies[0])
            if status != 200:
                failures.append(f"gunicorn 上的单位绩效看板返回 {status}（会话无效？）")
            say(f"并发：{options.concurrency} 个用户，{options.seconds:g} 秒…")
            figures = load_run(port=port, path=path, cookies=cookies, seconds=options.seconds)
    except StartError as error:
        failures.append(str(error))
        return {"users": options.concurrency, "rps": None, "p95_ms": None, "errors": 0}
    say(f"  {figures.rps} 次/秒，p95 {figures.p95_ms} ms，{figures.errors} 个错误")
    if figures.errors:
        failures.append(f"并发测量中有 {figures.errors} 个请求失败")
    return figures.as_json()


def _save_to_score(world: World, *, broker: dict, folder: Path, say, failures: list[str]) -> float | None:
    say("启动 Celery worker，批量评分期间保存一个实际完成值…")
    try:
        with celery_worker(database_url=database_url(), broker_env=broker, folder=folder,
                           concurrency=WORKER_PROCESSES, say=say):
            latency, during = save_to_score_during_bulk(world, say=say)
    except (StartError, TimeoutError) as error:
        failures.append(f"保存到得分可见：{error}")
        return None
    say(f"  保存后 {latency} ms 得分可见（当时批量评分 {during['bulk_done_tables']}/{during['bulk_total_tables']}）")
    return latency


def _import(world: World, *, say, failures: list[str]) -> float | None:
    from kpi.importers.actuals import ActualsImportError

    try:
        return import_rate(world, say=say)
    except ActualsImportError as error:
        failures.append("导入实际完成值被拒绝：" + "；".join(error.errors[:5]))
        return None
