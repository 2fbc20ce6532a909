"""The whole-unit bundle: enqueued after commit, a zip with every file, progress in the row, safe to run twice."""
import json
import zipfile
from pathlib import Path

import pytest

from kpi.models import SelfEvalReport
from kpi.selfeval import services
from kpi.selfeval.data import unit_evaluation
from kpi.selfeval.tasks import selfeval_bundle_run
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db

EXPECTED_NAMES = [
    "2026-测试市就业服务中心-绩效自评.xlsx",
    "2026-测试市就业服务中心-绩效自评.pdf",
    "项目支出绩效自评表/职业技能培训补贴项目.xlsx",
    "项目支出绩效自评表/职业技能培训补贴项目.pdf",
    "自评数据.json",
]


@pytest.fixture
def sent(monkeypatch):
    messages = []
    monkeypatch.setattr(selfeval_bundle_run, "delay", lambda *args: messages.append(args))
    return messages


def test_start_enqueues_after_commit_once(world, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.selfeval_bundle_start(unit=world.unit, year=2026, user=world.admin)
        assert sent == []  # nothing before the commit
    assert sent == [(report.pk,)]
    assert (report.status, report.format, report.table_id) == ("pending", "zip", None)
    # a second click while it is queued gives the same bundle
    with django_capture_on_commit_callbacks(execute=True):
        again = services.selfeval_bundle_start(unit=world.unit, year=2026, user=world.admin)
    assert again.pk == report.pk and sent == [(report.pk,)]


def test_bundle_task_writes_the_zip_and_progress(world, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = services.selfeval_bundle_start(unit=world.unit, year=2026, user=world.admin)
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    assert report.status == SelfEvalReport.Status.DONE
    assert report.done == report.total == 4 and report.percent == 100
    assert report.generated_at is not None and report.policy_version == "default"
    assert report.snapshot == json.loads(json.dumps(unit_evaluation(unit=world.unit, year=2026).as_json()))
    with report.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        assert archive.namelist() == EXPECTED_NAMES
        assert archive.read("项目支出绩效自评表/职业技能培训补贴项目.pdf").startswith(b"%PDF-")
        assert archive.read("2026-测试市就业服务中心-绩效自评.xlsx").startswith(b"PK")
        assert json.loads(archive.read("自评数据.json")) == report.snapshot
    assert report.file.name.startswith(f"selfeval/{world.unit.pk}/") and report.file.name.endswith(".zip")
    assert "测试" not in report.file.name  # a random stored name


def test_progress_is_recorded_while_running(world, sent, monkeypatch):
    report = services.selfeval_bundle_start(unit=world.unit, year=2026)
    observed = []
    render = services._render_table

    def spy(evaluation, fmt, generated_at, *kit):  # kit: the bundle's fonts (pdf.font_kit)
        row = SelfEvalReport.objects.get(pk=report.pk)
        observed.append((row.status, row.done, row.total))
        return render(evaluation, fmt, generated_at, *kit)

    monkeypatch.setattr(services, "_render_table", spy)
    selfeval_bundle_run(report.pk)
    assert observed == [("running", 2, 4), ("running", 3, 4)]


def test_running_twice_is_harmless(world, sent):
    report = services.selfeval_bundle_start(unit=world.unit, year=2026)
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    first_name = report.file.name
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    assert report.status == "done" and report.file.name == first_name and report.done == report.total
    assert len(list(Path(report.file.storage.path(first_name)).parent.iterdir())) == 1  # no second file left


def test_a_unit_with_the_unit_table_gets_its_files(world, sent):
    from decimal import Decimal

    from tests.factories import table_with_indicators

    table_with_indicators(unit=world.unit, year=2026, rows=[("履职效能", "数量指标", "职业介绍人次", ">=1万人次",
                                                            Decimal("90"))])
    report = services.selfeval_bundle_start(unit=world.unit, year=2026)
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    with report.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
    assert "部门整体绩效自评表/2026-测试市就业服务中心-部门整体绩效自评表.xlsx" in names
    assert "部门整体绩效自评表/2026-测试市就业服务中心-部门整体绩效自评表.pdf" in names
    assert report.total == 6 and report.snapshot["unit_table"]["project"] is None


def test_a_unit_without_tables_fails_with_a_reason(sent):
    unit = UnitFactory()
    report = services.selfeval_bundle_start(unit=unit, year=2026)
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    assert report.status == SelfEvalReport.Status.FAILED and "没有绩效目标表" in report.error
    assert services.bundle_progress(report=report)["file_url"] is None


def test_an_unexpected_error_is_recorded_and_raised(world, sent, monkeypatch, caplog):
    report = services.selfeval_bundle_start(unit=world.unit, year=2026)

    def broken(*args, **kwargs):
        raise RuntimeError("Unable to load font: Traceback")

    monkeypatch.setattr(services, "_render_table", broken)
    with pytest.raises(RuntimeError):
        selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    # The page shows a plain Chinese message; the exception, with its traceback, is in the log only.
    assert report.status == "failed" and report.error.startswith("生成失败：系统内部错误")
    assert not any(word in report.error for word in ("Error", "Traceback", "Unable", "font"))
    failed = [r for r in caplog.records if r.name == "kpi.selfeval.tasks"]
    assert failed and failed[0].exc_info and failed[0].exc_info[0] is RuntimeError


def test_a_bundle_stuck_for_long_does_not_block_a_new_one(world, sent):
    import datetime as dt

    from django.utils import timezone

    stuck = services.selfeval_bundle_start(unit=world.unit, year=2026)
    SelfEvalReport.objects.filter(pk=stuck.pk).update(status="running",
                                                      created_at=timezone.now() - dt.timedelta(hours=2))
    fresh = services.selfeval_bundle_start(unit=world.unit, year=2026)
    assert fresh.pk != stuck.pk
    stuck.refresh_from_db()
    assert stuck.status == "failed" and "超时" in stuck.error
