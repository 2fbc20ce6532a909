"""Many readers and a writer at once, on the configured database (the embedded SQLite file by default).

Twenty people open the demo's largest unit scorecard over and over while a lead saves actuals on the
report page, all through a real threaded HTTP server (each request thread has its own connection).
Reads open no write transaction, so no reader waits for the writer's lock or fails with "database is
locked", and every save succeeds. The figures are printed (`scripts/concurrent_reads.sh` shows them).
"""
import json
import re
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from django.core.management import call_command

from budgets.models import Unit
from kpi.models import GoalTable

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

READERS = 20
READS_EACH = 8
SAVES = 10
PASSWORD = "jixiao-demo-2026"


class Browser:
    """One person's session: cookies kept, Django's CSRF token sent with every POST."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, float]:
        body = None
        headers = {"Referer": self.base + path}
        if data is not None:
            token = next(c.value for c in self.jar if c.name == "csrftoken")
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        started = time.perf_counter()
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body, headers=headers),
                                  timeout=120) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        return status, text, (time.perf_counter() - started) * 1000

    def login(self, username: str) -> None:
        self.request("/accounts/login/")
        status, _, _ = self.request("/accounts/login/", {"username": username, "password": PASSWORD})
        assert status == 302, f"{username} could not sign in ({status})"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_twenty_readers_and_a_saving_lead_get_no_error(live_server):
    call_command("load_demo", verbosity=0)
    unit = Unit.objects.get(code="DEMO-SB")
    scorecard = f"/scorecards/units/{unit.pk}/2026/"
    table = GoalTable.objects.get(project__name="城乡居民养老保险待遇发放服务项目")
    indicator = table.indicators.get(name="待遇领取人员资格认证人数")
    report_page = f"/tables/{table.pk}/report/?as_of=2026-11-30"

    readers = [Browser(live_server.url) for _ in range(READERS)]
    for reader in readers:
        reader.login("liumin")
    lead = Browser(live_server.url)
    lead.login("wangfang")

    reads, saves, failures = [], [], []
    start = threading.Barrier(READERS + 1)

    def read(browser):
        start.wait()
        for _ in range(READS_EACH):
            status, text, ms = browser.request(scorecard)
            reads.append(ms)
            if status != 200 or "年度绩效看板" not in text:
                failures.append(("read", status, text[:300]))

    def save():
        start.wait()
        for number in range(SAVES):
            status, page, _ = lead.request(report_page)
            base = re.search(rf'name="i{indicator.pk}-base"(?: value="(\d*)")?', page)
            if status != 200 or base is None:
                failures.append(("open report page", status, page[:300]))
                continue
            form = {"action": "save", "as_of": "2026-11-30", f"i{indicator.pk}-base": base.group(1) or "",
                    f"i{indicator.pk}-value": f"3.{number}"}
            status, text, ms = lead.request(report_page, form)
            saves.append(ms)
            if status != 302:
                failures.append(("save", status, text[:300]))

    threads = [threading.Thread(target=read, args=(reader,)) for reader in readers]
    threads.append(threading.Thread(target=save))
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    quantiles = statistics.quantiles(reads, n=20)
    figures = {
        "readers": READERS, "reads": len(reads), "saves": len(saves), "errors": len(failures),
        "seconds": round(elapsed, 2), "reads_per_s": round(len(reads) / elapsed, 1),
        "read_p50_ms": round(statistics.median(reads), 1), "read_p95_ms": round(quantiles[18], 1),
        "read_max_ms": round(max(reads), 1), "save_max_ms": round(max(saves), 1) if saves else None,
    }
    from django.db import connection

    figures["database"] = connection.vendor
    print("\nconcurrent reads while a lead saves:", json.dumps(figures, ensure_ascii=False))
    assert failures == [], failures[:3]
    assert len(reads) == READERS * READS_EACH and len(saves) == SAVES
    saved = indicator.actuals.filter(as_of="2026-11-30").order_by("-id").first()
    assert saved is not None and str(saved.value).startswith(f"3.{SAVES - 1}")
