"""A refused bulk import with thousands of bad rows (issue 15): the page lists the first hundred, the CSV
download every one, for the uploader only."""
import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budgets.models import Role
from budgets.services import membership_grant
from kpi.importers.actuals import ACTUALS_COLUMNS
from kpi.models import Actual
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
BAD_ROWS = 3000


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    unit = UnitFactory(code="U9101", name="市文旅局")
    project = ProjectFactory(unit=unit, name="文化惠民项目")
    table_with_indicators(project, rows=[("产出指标", "数量指标", "演出场次", ">=100场", Decimal("40"))])
    admin = UserFactory()
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    return unit, admin


def bad_file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ACTUALS_COLUMNS)
    for number in range(rows):
        # an indicator the table does not have, named like a formula: the CSV must not run it
        writer.writerow(["文化惠民项目", f"=HYPERLINK(\"x\",\"{number}\")", "2026-07-31", "120"]
                        + [""] * (len(ACTUALS_COLUMNS) - 4))
    return out.getvalue().encode()


def upload(client, unit, data):
    return client.post(reverse("importers:actuals"), {
        "unit": unit.pk, "year": 2026, "kind": "actuals",
        "file": SimpleUploadedFile("实际完成值.csv", data, content_type="text/csv"),
    })


def test_thousands_of_errors_show_a_hundred_and_download_all(client, world):
    unit, admin = world
    client.force_login(admin)
    response = upload(client, unit, bad_file(BAD_ROWS))
    assert response.status_code == 200 and Actual.objects.count() == 0
    assert len(response.content) < 300_000
    page = response.content.decode()
    assert f"共 {BAD_ROWS} 条错误，仅显示前 100 条" in page
    errors_block = page[page.index('id="import-errors"'):page.index('<div class="card">')]
    assert errors_block.count("<li>") == 100
    url = response.context["errors_url"]
    assert url.startswith("/actuals/import/errors/") and f'href="{url}"' in page

    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    text = download.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["序号", "错误"] and len(rows) == BAD_ROWS + 1
    assert [row[0] for row in rows[1:4]] == ["1", "2", "3"]
    assert rows[1][1] == response.context["errors"][0]  # the same messages as on the page
    assert all(not row[1].startswith(("=", "+", "-", "@")) for row in rows[1:])


def test_a_few_errors_are_all_on_the_page_without_a_download(client, world):
    unit, admin = world
    client.force_login(admin)
    response = upload(client, unit, bad_file(3))
    page = response.content.decode()
    assert "请修改以下 3 处错误" in page and "仅显示前" not in page and response.context["errors_url"] == ""


def test_only_the_uploader_or_a_superuser_downloads_the_errors(client, world):
    unit, admin = world
    client.force_login(admin)
    url = upload(client, unit, bad_file(150)).context["errors_url"]
    outsider = UserFactory()
    membership_grant(user=outsider, unit=UnitFactory(), role=Role.ADMIN)
    fellow = UserFactory()  # an administrator of the same unit is not the uploader either
    membership_grant(user=fellow, unit=unit, role=Role.ADMIN)
    for user in (outsider, fellow):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to log in
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(url).status_code == 200
    client.force_login(admin)
    assert client.get(url.replace("/errors/", "/errors/x")).status_code == 404
