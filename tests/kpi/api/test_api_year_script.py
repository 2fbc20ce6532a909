"""scripts/api_year.py against the live test server: the demo unit's whole year through the API — record,
submit (the lead), approve (the administrator), execution, the self-evaluation JSON — which is then exactly
what `selfeval_report --format json` prints; run again, it repeats nothing (Idempotency-Key)."""
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from kpi.api.services import token_create
from kpi.models import Actual, Report
from kpi.rescoring.services import tables_rescore
from kpi.rescoring.tasks import rescore_table

pytestmark = pytest.mark.django_db(transaction=True)
SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "api_year.py"


@pytest.fixture
def scoring_at_once(monkeypatch):
    """No worker here: each rescore message the server sends after a commit is done at once, in its thread."""
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: tables_rescore(table_ids=[table_id]))


def run(live_server, *tokens, timeout=240):
    admin, lead = tokens
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--url", live_server.url, "--unit", "DEMO-SB", "--year", "2026",
         "--lead-token", lead, "--poll", "1", "--wait", "60"],
        env={"PATH": "/usr/bin:/bin", "JIXIAO_API_TOKEN": admin}, capture_output=True, text=True, timeout=timeout,
    )


def test_a_whole_demo_year_through_the_api(live_server, scoring_at_once, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=StringIO())
    users = get_user_model().objects
    _, admin = token_create(user=users.get(username="liumin"), name="年终同步", access="write")
    _, lead = token_create(user=users.get(username="wangfang"), name="年终同步", access="write")

    done = run(live_server, admin, lead)
    assert done.returncode == 0, done.stderr
    evaluation = json.loads(done.stdout)
    assert "已审核通过" in done.stderr and "已记录截至 2026-12-31 的累计执行数" in done.stderr
    out = StringIO()
    call_command("selfeval_report", "--unit", "DEMO-SB", "--year", "2026", "--format", "json", "--out", "-",
                 stdout=out, stderr=StringIO())
    assert evaluation == json.loads(out.getvalue())
    # every target met and every project spent in full: the projects score 100, nothing of theirs is missing
    assert [p["total"] for p in evaluation["projects"]] == ["100.00", "100.00"]
    assert all(p["missing"] == [] for p in evaluation["projects"])
    year_end = Report.objects.filter(as_of="2026-12-31")
    assert year_end.count() == 3 and set(year_end.values_list("status", flat=True)) == {"approved"}
    # the lead submitted what they lead; the administrator approved
    pension = year_end.get(table__project__name="城乡居民养老保险待遇发放服务项目")
    assert pension.submitted_by.username == "wangfang" and pension.reviewed_by.username == "liumin"

    actuals = Actual.objects.count()
    again = run(live_server, admin, lead)
    assert again.returncode == 0, again.stderr
    assert Actual.objects.count() == actuals and json.loads(again.stdout) == evaluation


def test_a_wrong_unit_or_no_token_says_so(live_server):
    done = subprocess.run([sys.executable, str(SCRIPT), "--url", live_server.url, "--unit", "NOPE", "--year", "2026"],
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "JIXIAO_API_TOKEN" in done.stderr
    done = subprocess.run([sys.executable, str(SCRIPT), "--url", live_server.url, "--unit", "NOPE", "--year", "2026",
                           "--token", "jx_wrong"], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "令牌无效或已撤销" in done.stderr
