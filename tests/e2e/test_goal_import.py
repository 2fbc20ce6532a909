"""Uploading goal tables in a real browser, with a real Celery worker reading and importing behind it.

An administrator uploads a document of two tables, one of which cannot be imported; the page waits for the
worker, then shows the preview with that table's reason; the confirmed import brings in the other table,
and a re-import without one indicator keeps it (the page says so) unless the box to delete is ticked.
"""
import time

import pytest

from budgets.models import Project
from budgets.services import membership_grant
from kpi.models import ImportJob, Indicator
from tests.e2e.conftest import login
from tests.factories import UnitFactory, UserFactory
from tests.kpi.importers.documents import ROWS, table_text
from tests.kpi.test_worker_e2e import worker  # noqa: F401 (a fixture: a real Celery worker process)

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
UNREADABLE = [["", "其他指标", "某指标", ">=1个", "计划标准", "/", "30", "直接赋分", "工作资料"], *ROWS[1:]]
SHOTS = "/tmp/shots"


def upload(page, live_server, path, *, prune=False):
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files("input[name=file]", str(path))
    if prune:
        page.check("input[name=prune]")
    page.click("button:has-text('上传并预览')")
    page.wait_for_load_state()


def wait_for_status(job_id, status, timeout=90):
    deadline = time.monotonic() + timeout
    while ImportJob.objects.get(pk=job_id).status != status:
        assert time.monotonic() < deadline, f"import job {job_id} never became {status}"
        time.sleep(0.3)


def shoot(page, name):
    import os

    if os.environ.get("JIXIAO_SHOTS"):
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_upload_preview_confirm_and_reimport(browser_page, live_server, worker, tmp_path):
    admin = UserFactory(username="kezhang")
    membership_grant(user=admin, unit=UnitFactory(name="某某县人力资源服务中心"), role="admin")
    page = browser_page
    login(page, live_server, "kezhang")

    document = tmp_path / "两张表.txt"
    document.write_text("\n".join([table_text(*ROWS), table_text(*UNREADABLE, name="第二个项目")]), encoding="utf-8")
    upload(page, live_server, document)
    # The page waits for the worker and shows the preview by itself.
    page.wait_for_selector("text=确认导入", timeout=90_000)
    content = page.content()
    assert "项目“第二个项目”第 17 行：指标“某指标”没有一级指标，也无法从二级指标推断" in content
    assert Project.objects.count() == 0  # the preview wrote nothing
    shoot(page, "import-preview")
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("#status:has-text('已完成')", timeout=90_000)
    summary = page.locator("#summary").inner_text()
    assert "项目“培训项目”：新建" in summary and "项目“第二个项目”：未导入" in summary
    shoot(page, "import-done")
    assert list(Project.objects.values_list("name", flat=True)) == ["培训项目"]

    # A re-import without two indicators keeps them and says so; with the box ticked they go.
    shorter = tmp_path / "少两行.txt"
    shorter.write_text(table_text(ROWS[0], ROWS[3]), encoding="utf-8")
    upload(page, live_server, shorter)
    page.wait_for_selector("text=确认导入", timeout=90_000)
    assert "指标“考核合格率”：文件中没有此指标，已保留" in page.content()
    upload(page, live_server, shorter, prune=True)
    page.wait_for_selector("text=确认导入", timeout=90_000)
    assert "删除 2 个" in page.content() and "已选择删除文件中没有的指标" in page.content()
    job = ImportJob.objects.order_by("-pk").first()
    page.click("button:has-text('确认导入')")
    wait_for_status(job.pk, ImportJob.Status.DONE)
    assert set(Indicator.objects.values_list("name", flat=True)) == {"培训人次", "学员满意度"}
