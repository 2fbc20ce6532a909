"""The self-evaluation at the size of a big unit (issue 12): the unit page evaluates one page of tables and
counts the rest in SQL; the bundle cuts its fonts once (pdf.font_kit) and writes its progress in steps."""
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from budgets.models import Unit
from kpi.models import Indicator, SelfEvalReport
from kpi.selfeval import pdf, services, views
from kpi.selfeval.data import table_evaluation, unit_evaluation
from kpi.selfeval.tasks import selfeval_bundle_run
from tests.factories import ActualFactory, ProjectFactory, approve_reports, rescore_stale, table_with_indicators

from .conftest import JULY

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")


@pytest.fixture(autouse=True)
def no_bundle_enqueue(monkeypatch):
    monkeypatch.setattr(selfeval_bundle_run, "delay", lambda *args: None)


def more_projects(world, count: int) -> None:
    for i in range(count):
        table, indicators = table_with_indicators(ProjectFactory(unit=world.unit, name=f"更多项目{i}"))
        ActualFactory(indicator=indicators[0], as_of=JULY, value=Decimal("100"), user=world.lead)
        approve_reports(table)
    rescore_stale()


def pdf_text(data: bytes, folder: Path) -> str:
    path = folder / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


# --- the unit page ----------------------------------------------------------------------------------------

def test_the_unit_page_shows_one_page_of_tables_and_counts_all(client, world, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    more_projects(world, 3)  # 4 project tables in all
    client.force_login(world.admin)
    url = reverse("selfeval:unit", args=[world.unit.pk, 2026])
    first = client.get(url)
    assert [e.label for e in first.context["evaluation"].evaluations] == ["更多项目0", "更多项目1"]
    html = first.content.decode()
    assert "自评表 <strong>4</strong> 张" in html and "共 4 张自评表，第 1 / 2 页" in html
    assert "本页自评表的缺失项" in html and "职业技能培训补贴项目" not in html
    second = client.get(url, {"page": 2})
    assert [e.label for e in second.context["evaluation"].evaluations] == ["更多项目2", "职业技能培训补贴项目"]
    assert "指标“参训人员满意度”：缺少实际完成值（未填报）" in second.content.decode()
    assert client.get(url, {"page": "x"}).context["page"].number == 1  # a bad page number: the first page


def test_the_unit_page_query_count_is_the_same_on_every_page(client, world, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    more_projects(world, 5)
    client.force_login(world.admin)
    url = reverse("selfeval:unit", args=[world.unit.pk, 2026])
    # As in test_views.py: session and user 2, the unit 3, the head 1, the page's tables 1, their evaluation 7,
    # the kept reports 1, navigation 3.
    for page in (1, 2, 3):
        with django_assert_num_queries(18):
            assert client.get(url, {"page": page}).status_code == 200


def test_the_head_counts_stale_and_unscored_tables_of_the_whole_unit(client, world, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    table_with_indicators(ProjectFactory(unit=world.unit, name="新项目"))  # never reported nor scored
    client.force_login(world.admin)
    html = client.get(reverse("selfeval:unit", args=[world.unit.pk, 2026])).content.decode()
    assert "尚无正式得分 <strong>1</strong> 张" in html and "评分更新中：1 张目标表" in html


def test_a_unit_of_a_thousand_projects(client, django_assert_num_queries):
    """A thousand tables whose official scores are of one date: the scores are read with one condition per
    date (SQLite refused a thousand ORs: "Expression tree is too large"), and the page reads one page."""
    from kpi.benchmarks.world import world_build

    built = world_build(projects=1000, units=1, year=2026)
    unit = Unit.objects.get(pk=built.big_unit_id)
    evaluation = unit_evaluation(unit=unit, year=2026)
    assert len(evaluation.projects) == 1000 and all(e.total is not None for e in evaluation.projects)
    client.force_login(built.admin)
    # 20 as in a small unit, and the unit's budget (the first page holds the 部门整体 table).
    with django_assert_num_queries(19):
        response = client.get(reverse("selfeval:unit", args=[unit.pk, 2026]))
    assert len(response.context["evaluation"].evaluations) == views.PAGE_SIZE
    assert len(response.content) < 200_000


# --- the bundle's fonts -------------------------------------------------------------------------------------

@needs_poppler
def test_a_pdf_with_the_kit_reads_as_with_the_full_fonts(world, tmp_path):
    e = table_evaluation(table=world.table)
    kit = pdf.font_kit(texts=pdf.evaluation_texts(e), folder=tmp_path)
    with_kit = pdf.table_pdf(e, kit=kit)
    assert pdf_text(with_kit, tmp_path) == pdf_text(pdf.table_pdf(e), tmp_path)
    assert kit.main.stat().st_size < pdf.FONT_PATH.stat().st_size / 10  # a few hundred glyphs


@needs_poppler
def test_a_character_outside_the_kit_is_drawn_with_the_full_fonts(world, tmp_path, monkeypatch):
    kit = pdf.font_kit(texts=pdf.evaluation_texts(table_evaluation(table=world.table)), folder=tmp_path)
    assert "隳" not in kit.chars
    Indicator.objects.filter(pk=world.indicators[0].pk).update(name="隳培训人次")
    assert "隳培训人次" in pdf_text(pdf.table_pdf(table_evaluation(table=world.table), kit=kit), tmp_path)


def test_the_bundle_writes_progress_in_steps_and_stores_compressed_files(world, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_STEPS", 2)  # 4 files: every 2nd
    report = services.selfeval_bundle_start(unit=world.unit, year=2026)
    observed = []
    render = services._render_table

    def spy(evaluation, fmt, generated_at, *kit):
        observed.append(SelfEvalReport.objects.get(pk=report.pk).done)
        assert kit and isinstance(kit[0], pdf.FontKit)  # one kit for the whole bundle
        return render(evaluation, fmt, generated_at, *kit)

    monkeypatch.setattr(services, "_render_table", spy)
    selfeval_bundle_run(report.pk)
    assert observed == [2, 2]
    report.refresh_from_db()
    assert (report.status, report.done, report.total) == ("done", 4, 4)
    with report.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        kinds = {info.filename.rsplit(".", 1)[-1]: info.compress_type for info in archive.infolist()}
    assert kinds == {"xlsx": zipfile.ZIP_STORED, "pdf": zipfile.ZIP_STORED, "json": zipfile.ZIP_DEFLATED}
