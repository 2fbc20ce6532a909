"""Documents of a bundle whose names sanitise alike, or differ only by case, all survive in the zip (extracted,
one would otherwise overwrite the other): the later ones get " (2)", " (3)" before the extension."""
import zipfile

import pytest

from kpi.models import SelfEvalReport
from kpi.selfeval import services
from kpi.selfeval.data import unit_evaluation
from kpi.selfeval.tasks import selfeval_bundle_run
from tests.factories import ProjectFactory, rescore_stale, table_with_indicators

pytestmark = pytest.mark.django_db


def project_names(names: list[str]) -> list[str]:
    return [name for name in names if name.startswith("项目支出绩效自评表/")]


def add_projects(world, *names):
    for name in names:
        table_with_indicators(ProjectFactory(unit=world.unit, name=name))
    rescore_stale()


def test_unique_stem_appends_a_number_ignoring_case():
    used: set[str] = set()
    assert [services.unique_stem(s, used) for s in ("道路_养护", "道路_养护", "ABC", "abc", "道路_养护 (2)",
                                                        "道路_养护")] == [
        "道路_养护", "道路_养护 (2)", "ABC", "abc (2)", "道路_养护 (2) (2)", "道路_养护 (3)"]


def test_projects_whose_names_sanitise_alike_get_distinct_names(world):
    add_projects(world, "道路/养护", "道路:养护", "ABC", "abc")
    names = [name for name, _fmt, _subject in services.bundle_entries(unit_evaluation(unit=world.unit, year=2026))]
    projects = project_names(names)
    assert len(projects) == 10 and len({n.casefold() for n in projects}) == 10
    stems = sorted({n.rsplit(".", 1)[0].split("/", 1)[1] for n in projects})
    assert stems == sorted(["职业技能培训补贴项目", "道路_养护", "道路_养护 (2)", "ABC", "abc (2)"]) or stems == sorted(
        ["职业技能培训补贴项目", "道路_养护", "道路_养护 (2)", "abc", "ABC (2)"])  # in the evaluation's order
    for stem in stems:  # the xlsx and the pdf of one project share their name
        assert f"项目支出绩效自评表/{stem}.xlsx" in projects and f"项目支出绩效自评表/{stem}.pdf" in projects


def test_both_documents_are_in_the_zip(world, monkeypatch, django_capture_on_commit_callbacks):
    add_projects(world, "道路/养护", "道路:养护")
    monkeypatch.setattr(selfeval_bundle_run, "delay", lambda *args: None)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.selfeval_bundle_start(unit=world.unit, year=2026, user=world.admin)
    selfeval_bundle_run(report.pk)
    report.refresh_from_db()
    assert report.status == SelfEvalReport.Status.DONE
    with report.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
        assert len(names) == len(set(names))
        assert {"项目支出绩效自评表/道路_养护.pdf", "项目支出绩效自评表/道路_养护 (2).pdf",
                "项目支出绩效自评表/道路_养护.xlsx", "项目支出绩效自评表/道路_养护 (2).xlsx"} <= set(names)
        assert archive.read("项目支出绩效自评表/道路_养护 (2).pdf").startswith(b"%PDF-")
