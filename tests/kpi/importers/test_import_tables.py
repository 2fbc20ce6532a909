"""Writing table by table (issue 11, the write side): a table that cannot be imported costs only itself,
re-import keeps what the file no longer holds, an unchanged file writes nothing, the upload page reads in
the worker. Every document is a small one written for the test (tests/kpi/importers/documents.py).
"""
import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DataError
from django.urls import reverse
from django.utils import timezone

from budgets.models import Project, Unit
from budgets.services import membership_grant
from kpi.importers import services
from kpi.importers.tasks import import_job_read, import_job_run
from kpi.models import GoalTable, ImportJob, Indicator
from kpi.reports.services import actual_record
from kpi.rescoring.tasks import rescore_table
from tests.factories import ImportJobFactory, UnitFactory, UserFactory

from .documents import ROWS, table_text

pytestmark = pytest.mark.django_db
UNIT = "某某县人力资源服务中心"
AUGUST = dt.date(2024, 8, 31)
# A first row whose 一级 is blank and whose 二级 tells nothing: the table cannot be imported.
UNREADABLE = [["", "其他指标", "某指标", ">=1个", "计划标准", "/", "30", "直接赋分", "工作资料"], *ROWS[1:]]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: None)


def write(tmp_path, *tables: str, name="目标表.txt", encoding="utf-8") -> str:
    path = tmp_path / name
    path.write_bytes("\n".join(tables).encode(encoding))
    return str(path)


def run(path, *args) -> tuple[int, str]:
    """import_disclosure as a script calls it: its exit status and what it printed (the error included)."""
    out = StringIO()
    try:
        call_command("import_disclosure", path, *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def dry_json(path) -> tuple[int, dict]:
    code, output = run(path, "--dry-run", "--json")
    return code, json.loads(output[: output.rindex("}") + 1])


def history_rows() -> int:
    return sum(model.objects.count() for model in apps.get_models() if model.__name__.startswith("Historical"))


# --- never refuse more than the broken piece -------------------------------------------------------

def test_a_table_that_cannot_be_imported_costs_only_itself(tmp_path):
    path = write(tmp_path, table_text(*ROWS), table_text(*UNREADABLE, name="第二个项目"))
    code, preview = dry_json(path)
    assert code == 0 and preview["errors"] == []
    good, bad = preview["tables"]
    assert good["errors"] == []
    assert bad["errors"] == ["项目“第二个项目”第 17 行：指标“某指标”没有一级指标，也无法从二级指标推断，请补上一级指标。"]
    assert not Unit.objects.exists()  # the dry run wrote nothing

    code, output = run(path)
    assert code == 0
    assert "项目“第二个项目”：未导入（项目“第二个项目”第 17 行：指标“某指标”没有一级指标" in output
    assert list(Project.objects.values_list("name", flat=True)) == ["培训项目"]
    assert Indicator.objects.filter(table__project__name="培训项目").count() == 4


def test_nothing_importable_exits_1_and_writes_nothing_not_even_the_unit(tmp_path):
    path = write(tmp_path, table_text(*UNREADABLE))
    code, preview = dry_json(path)
    assert code == 1 and preview["tables"][0]["errors"]
    code, output = run(path)
    assert code == 1 and "没有导入任何绩效目标表" in output and "未导入" in output
    assert not Unit.objects.exists() and not GoalTable.objects.exists()


def test_two_tables_of_one_project_are_a_conflict_and_neither_is_imported(tmp_path):
    path = write(tmp_path, table_text(*ROWS), table_text(ROWS[0], ROWS[3]), table_text(*ROWS, name="另一个项目"))
    code, preview = dry_json(path)
    assert code == 0
    first, second, other = preview["tables"]
    assert first["errors"] == second["errors"] and "均未导入" in first["errors"][0]
    assert "第 1 行、第 11 行开始" in first["errors"][0] and other["errors"] == []
    run(path)
    assert list(Project.objects.values_list("name", flat=True)) == ["另一个项目"]


def test_money_keeps_three_decimals_as_published(tmp_path):
    path = write(tmp_path, table_text(*ROWS, total="438.768"))
    assert dry_json(path)[1]["tables"][0]["funds"] == {"total": "438.768", "fiscal": "438.768", "other": "0.00"}
    run(path)
    project = Project.objects.get()
    assert (project.budget_initial, project.fiscal) == (Decimal("438.768"), Decimal("438.768"))


def test_a_target_without_unit_takes_it_from_the_indicator_name(tmp_path):
    row = ["产出指标", "数量指标", "参保人数（万人）", "≥80.9", "计划标准", "/", "30", "直接赋分", "工作资料"]
    path = write(tmp_path, table_text(row, *ROWS[1:]))
    indicator_json = dry_json(path)[1]["tables"][0]["indicators"][0]
    assert (indicator_json["kind"], indicator_json["value"], indicator_json["unit"]) == ("positive", "80.9", "万人")
    run(path)
    indicator = Indicator.objects.get(name="参保人数（万人）")
    assert (indicator.target_raw, indicator.target_value, indicator.unit) == ("≥80.9", Decimal("80.9"), "万人")


def test_a_value_the_model_refuses_is_named_in_chinese_and_costs_only_its_table(tmp_path, monkeypatch):
    original = Indicator.full_clean

    def refusing(self, *args, **kwargs):
        if self.name == "学员满意度" and self.table.project.name == "第二个项目":
            raise ValidationError({"weight": ["确认小数不超过 2 位。"]})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Indicator, "full_clean", refusing)
    path = write(tmp_path, table_text(*ROWS), table_text(*ROWS, name="第二个项目"))
    code, output = run(path)
    assert code == 0
    assert ("项目“第二个项目”（第 11 行开始）未导入：分值权重：确认小数不超过 2 位。请在文件中改正后重新导入。") in output
    assert list(Project.objects.values_list("name", flat=True)) == ["培训项目"]  # nothing of the refused one


def test_a_database_refusal_is_a_chinese_message_too(tmp_path, monkeypatch):
    original = services._indicators_sync

    def refusing(table, parsed, *args, **kwargs):
        if parsed.project == "第二个项目":
            raise DataError("numeric field overflow")
        return original(table, parsed, *args, **kwargs)

    monkeypatch.setattr(services, "_indicators_sync", refusing)
    code, output = run(write(tmp_path, table_text(*ROWS), table_text(*ROWS, name="第二个项目")))
    assert code == 0 and "数据库不接受其中的数值" in output and "overflow" not in output
    assert list(Project.objects.values_list("name", flat=True)) == ["培训项目"]


# --- re-import is safe -----------------------------------------------------------------------------

def test_a_re_import_whose_rows_became_unreadable_keeps_everything(tmp_path):
    run(write(tmp_path, table_text(*ROWS)))
    before = list(Indicator.objects.order_by("pk").values())
    code, output = run(write(tmp_path, table_text(*UNREADABLE)))
    assert code == 1 and "未导入" in output
    assert list(Indicator.objects.order_by("pk").values()) == before


def test_missing_indicators_are_kept_and_listed_and_prune_spares_actuals(tmp_path):
    run(write(tmp_path, table_text(*ROWS)))
    recorded = Indicator.objects.get(name="考核合格率")
    actual_record(indicator=recorded, as_of=AUGUST, value=Decimal("100"))
    shorter = write(tmp_path, table_text(ROWS[0], ROWS[3]))
    code, output = run(shorter)
    assert code == 0 and Indicator.objects.count() == 4
    assert "文件中没有而保留 2 个" in output
    assert "指标“服务水平”：文件中没有此指标，已保留" in output
    assert "指标“考核合格率”：文件中没有此指标，已保留（已有实际完成值，不会删除）" in output
    # kept rows go after the file's rows
    assert list(Indicator.objects.order_by("order").values_list("name", flat=True)) == [
        "培训人次", "学员满意度", "考核合格率", "服务水平"]
    code, output = run(shorter, "--prune")
    assert code == 0 and "删除 1 个" in output
    assert set(Indicator.objects.values_list("name", flat=True)) == {"培训人次", "学员满意度", "考核合格率"}


def test_an_unchanged_re_import_writes_no_history_rows(tmp_path):
    path = write(tmp_path, table_text(*ROWS), table_text(*ROWS, name="第二个项目"))
    run(path)
    rows, indicators = history_rows(), list(Indicator.objects.order_by("pk").values())
    code, output = run(path)
    assert code == 0 and output.count("无变化") == 2
    assert history_rows() == rows
    assert list(Indicator.objects.order_by("pk").values()) == indicators


def test_a_re_import_that_only_reorders_rows_writes_no_history(tmp_path):
    run(write(tmp_path, table_text(*ROWS)))
    rows = history_rows()
    run(write(tmp_path, table_text(ROWS[3], ROWS[0], ROWS[1], ROWS[2])))
    assert list(Indicator.objects.order_by("order").values_list("name", flat=True)) == [
        "学员满意度", "培训人次", "考核合格率", "服务水平"]
    assert history_rows() == rows


def test_one_changed_row_writes_one_history_row(tmp_path):
    run(write(tmp_path, table_text(*ROWS)))
    rows = history_rows()
    changed = [ROWS[0][:3] + [">=120人次"] + ROWS[0][4:], *ROWS[1:]]
    code, output = run(write(tmp_path, table_text(*changed)))
    assert "更新 1 个" in output
    assert history_rows() == rows + 1
    assert Indicator.objects.get(name="培训人次").target_value == Decimal("120")


# --- encodings, through the command ----------------------------------------------------------------

def test_a_utf16_file_with_bom_imports(tmp_path):
    path = tmp_path / "utf16.txt"
    path.write_bytes(table_text(*ROWS).encode("utf-16"))  # with its BOM
    code, output = run(str(path))
    assert code == 0 and Indicator.objects.count() == 4


def test_a_stray_byte_is_replaced_and_reported_with_its_line(tmp_path):
    data = table_text(*ROWS).encode("utf-8").replace("服务水平".encode(), "服务".encode() + b"\xff" + "水平".encode())
    path = tmp_path / "stray.txt"
    path.write_bytes(data)
    code, preview = dry_json(str(path))
    assert code == 0
    assert any("第 9 行" in w and "无法识别的字节" in w for w in preview["warnings"])


def test_a_file_cut_in_a_character_is_read_up_to_the_cut(tmp_path):
    data = (table_text(*ROWS) + "\n说明：以上为本项目目标").encode("utf-8")[:-1]
    path = tmp_path / "cut.txt"
    path.write_bytes(data)
    code, preview = dry_json(str(path))
    assert code == 0 and len(preview["tables"][0]["indicators"]) == 4
    assert any("被截断" in w for w in preview["warnings"])


# --- the upload page reads in the worker -----------------------------------------------------------

@pytest.fixture
def admin(client):
    user = UserFactory()
    membership_grant(user=user, unit=UnitFactory(name=UNIT), role="admin")
    client.force_login(user)
    return user


def upload(client, tmp_path, *tables: str, **fields):
    with open(write(tmp_path, *tables), "rb") as handle:
        return client.post(reverse("importers:upload"), {"file": handle, **fields})


def test_the_preview_shows_what_will_not_be_imported_and_why(client, admin, tmp_path):
    upload(client, tmp_path, table_text(*ROWS), table_text(*UNREADABLE, name="第二个项目"))
    job = ImportJob.objects.get()
    services.import_job_read(job_id=job.pk)
    page = client.get(reverse("importers:detail", args=[job.pk])).content.decode()
    assert "确认导入" in page
    assert "指标“某指标”没有一级指标，也无法从二级指标推断" in page and "not-imported" in page


def test_a_preview_with_nothing_importable_cannot_be_confirmed(client, admin, tmp_path, monkeypatch):
    queued = []
    monkeypatch.setattr(import_job_run, "delay", queued.append)
    upload(client, tmp_path, table_text(*UNREADABLE))
    job = ImportJob.objects.get()
    services.import_job_read(job_id=job.pk)
    page = client.get(reverse("importers:detail", args=[job.pk])).content.decode()
    assert "文件中没有可以导入的绩效目标表" in page and "确认导入</button>" not in page
    response = client.post(reverse("importers:confirm", args=[job.pk]))
    assert response.status_code == 409 and "预览中没有可以导入的绩效目标表" in response.content.decode()
    assert queued == [] and ImportJob.objects.get().status == ImportJob.Status.PREVIEW


def test_the_prune_checkbox_is_kept_with_the_job_and_applied(client, admin, tmp_path):
    run(write(tmp_path, table_text(*ROWS)))
    upload(client, tmp_path, table_text(ROWS[0], ROWS[3]), prune="on")
    job = ImportJob.objects.get()
    assert job.prune
    services.import_job_read(job_id=job.pk)
    job.refresh_from_db()
    assert "删除 2 个" in job.preview["tables"][0]["summary"]
    assert Indicator.objects.count() == 4  # the preview deleted nothing
    services.import_job_confirm(job=job)
    services.import_job_run(job_id=job.pk)
    assert set(Indicator.objects.values_list("name", flat=True)) == {"培训人次", "学员满意度"}


def test_without_the_checkbox_missing_indicators_are_kept(client, admin, tmp_path):
    run(write(tmp_path, table_text(*ROWS)))
    upload(client, tmp_path, table_text(ROWS[0], ROWS[3]))
    job = ImportJob.objects.get()
    services.import_job_read(job_id=job.pk)
    services.import_job_confirm(job=ImportJob.objects.get())
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and Indicator.objects.count() == 4
    assert any("文件中没有此指标，已保留" in line for line in job.summary)


def test_an_unexpected_error_while_reading_fails_the_job_without_exception_text(monkeypatch):
    job = ImportJobFactory(read=False)

    def broken(**kwargs):
        raise KeyError("secret internals")

    monkeypatch.setattr(services, "document_read", broken)
    services.import_job_read(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "读取文件时出现意外错误，未写入任何数据" in job.error and "secret" not in job.error


def test_an_import_that_imports_nothing_fails_with_the_reasons(monkeypatch):
    job = ImportJobFactory()
    services.import_job_confirm(job=job)
    monkeypatch.setattr(services, "_table_import_alone", lambda unit, document, parsed, user, prune: services.TableOutcome(
        label=parsed.label, action=services.NOT_IMPORTED, errors=["某原因"]))
    services.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and "没有导入任何绩效目标表" in job.error
    assert job.summary and all("未导入（某原因）" in line for line in job.summary)
    assert not GoalTable.objects.exists()


def test_jobs_whose_message_was_lost_are_sent_again(monkeypatch):
    sent = []
    monkeypatch.setattr(import_job_read, "delay", lambda pk: sent.append(("read", pk)))
    monkeypatch.setattr(import_job_run, "delay", lambda pk: sent.append(("run", pk)))
    reading, fresh = ImportJobFactory(read=False), ImportJobFactory(read=False)
    pending = services.import_job_confirm(job=ImportJobFactory())
    previewed = ImportJobFactory()
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    ImportJob.objects.filter(pk__in=[reading.pk, pending.pk, previewed.pk]).update(created_at=long_ago)
    assert services.import_jobs_resume() == 2
    assert sorted(sent) == [("read", reading.pk), ("run", pending.pk)]
    assert fresh.pk not in [pk for _, pk in sent]


def test_a_large_preview_is_paged_and_lists_what_cannot_be_imported_on_every_page(
        client, admin, tmp_path, django_assert_max_num_queries):
    tables = [table_text(*ROWS, name=f"项目{n:02d}") for n in range(24)] + [table_text(*UNREADABLE, name="坏的项目")]
    upload(client, tmp_path, *tables)
    job = ImportJob.objects.get()
    services.import_job_read(job_id=job.pk)
    url = reverse("importers:detail", args=[job.pk])
    with django_assert_max_num_queries(12):
        first = client.get(url).content.decode()
    second = client.get(url + "?page=2").content.decode()
    assert "项目“项目00”" in first and "项目“项目19”" in first and "项目“项目20”" not in first
    assert "项目“项目20”" in second and "项目“项目00”" not in second
    assert "共 25 张目标表，第 1 / 2 页" in first
    for page in (first, second):  # the refused table is named on every page
        assert "不能导入的目标表（1 张）" in page and "<strong>项目“坏的项目”</strong>" in page
