"""Evidence in the entry form: an upload keeps what was typed (unsaved, exactly as typed) and shows its
result beside the row it belongs to; a save with files stores both; removal is a recorded, checked POST."""
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kpi.models import Actual, Evidence, Report
from kpi.reports.services import evidence_remove
from tests.factories import EvidenceFactory, table_with_indicators

from .conftest import close_year, entry_data, page_url, row_html

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="签到表.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def test_each_row_has_its_upload_inside_the_entry_form_that_returns_to_the_row(client, setup):
    client.force_login(setup["lead"])
    page = client.get(page_url(setup["table"])).content.decode()
    form = page[page.index('id="entry"') - 200:page.index("</form>", page.index('id="entry"'))]
    assert 'enctype="multipart/form-data"' in form
    for indicator in setup["indicators"]:
        row = row_html(page, indicator)
        assert f'name="evidence-{indicator.pk}"' in row
        assert f'name="upload" value="{indicator.pk}" formaction="{page_url(setup["table"])}#i{indicator.pk}"' in row


def test_uploading_after_typing_keeps_what_was_typed_and_saves_no_value(client, setup):
    count, tenk = setup.named("培训人次"), setup.named("认证人数")
    client.force_login(setup["lead"])
    data = entry_data({count: {"value": "3.1", "deviation_reason": "经费七月到位"}, tenk: {"value": "3.1万"}},
                      action=None)
    data.update({"upload": str(count.pk), f"evidence-{count.pk}": pdf()})
    response = client.post(page_url(setup["table"]), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'name="i{count.pk}-value" value="3.1"' in page and "经费七月到位" in page
    assert f'name="i{tenk.pk}-value" value="3.1万"' in page  # exactly as typed, not yet read
    assert "已上传“签到表.pdf”" in row_html(page, count) and "签到表.pdf" in row_html(page, count)
    assert "请填写偏差原因" not in page and "有填写错误" not in page  # an upload judges nothing
    assert not Actual.objects.exists() and not Report.objects.exists()
    evidence = Evidence.objects.get()
    assert evidence.indicator == count and evidence.uploaded_by == setup["lead"]


def test_upload_without_a_file_says_so_beside_the_row(client, setup):
    count = setup.named("培训人次")
    client.force_login(setup["lead"])
    data = entry_data({count: {"value": "95"}}, action=None)
    data["upload"] = str(count.pk)
    page = client.post(page_url(setup["table"]), data).content.decode()
    assert "请先选择要上传的文件" in row_html(page, count) and f'name="i{count.pk}-value" value="95"' in page


def test_a_refused_file_says_why_beside_its_row_and_keeps_what_was_typed(client, setup):
    count = setup.named("培训人次")
    client.force_login(setup["lead"])
    data = entry_data({count: {"value": "95"}}, action=None)
    data.update({"upload": str(count.pk),
                 f"evidence-{count.pk}": SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 an executable")})
    page = client.post(page_url(setup["table"]), data).content.decode()
    assert "“报告.pdf”未上传：不支持的文件类型" in row_html(page, count)
    assert f'name="i{count.pk}-value" value="95"' in page
    assert not Evidence.objects.exists()


def test_saving_with_files_chosen_stores_the_files_and_the_values(client, setup):
    count, people = setup.named("培训人次"), setup.named("参保人数")
    client.force_login(setup["lead"])
    data = entry_data({count: {"value": "95"}})
    data.update({f"evidence-{count.pk}": [pdf("a.pdf"), pdf("b.pdf")], f"evidence-{people.pk}": pdf("c.pdf")})
    response = client.post(page_url(setup["table"]), data, follow=True)
    page = response.content.decode()
    assert "已保存 1 项" in page and "已上传“a.pdf”" in page
    assert Actual.objects.get().value == Decimal("95")
    assert sorted(Evidence.objects.values_list("indicator_id", "original_name")) == sorted(
        [(count.pk, "a.pdf"), (count.pk, "b.pdf"), (people.pk, "c.pdf")])


def test_a_save_refused_for_its_values_still_keeps_the_chosen_file(client, setup):
    count = setup.named("培训人次")
    client.force_login(setup["lead"])
    data = entry_data({count: {"value": "-5"}})
    data[f"evidence-{count.pk}"] = pdf()
    page = client.post(page_url(setup["table"]), data).content.decode()
    assert "不能为负数" in row_html(page, count) and "已上传“签到表.pdf”" in row_html(page, count)
    assert Evidence.objects.count() == 1 and not Actual.objects.exists()


def test_removing_a_file_keeps_what_was_typed_and_is_kept_in_the_history(client, setup,
                                                                        django_capture_on_commit_callbacks):
    count = setup.named("培训人次")
    evidence = EvidenceFactory(indicator=count, user=setup["lead"])
    stored = evidence.file.name
    storage = evidence.file.storage
    client.force_login(setup["lead"])
    page = client.get(page_url(setup["table"])).content.decode()
    assert f'name="remove_evidence" value="{evidence.pk}"' in row_html(page, count)
    data = entry_data({count: {"value": "77"}}, action=None)
    data["remove_evidence"] = str(evidence.pk)
    assert storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(page_url(setup["table"]), data).content.decode()
    assert "已删除“evidence.pdf”" in row_html(page, count)
    assert not storage.exists(stored)  # the stored file goes once the removal is committed
    assert f'name="i{count.pk}-value" value="77"' in page and not Actual.objects.exists()
    assert not Evidence.objects.exists()
    removal = Evidence.history.filter(id=evidence.pk, history_type="-").get()
    assert removal.history_user == setup["lead"] and removal.original_name == "evidence.pdf"


def test_removal_is_refused_in_a_closed_year_to_reviewers_and_for_another_tables_file(client, setup):
    count = setup.named("培训人次")
    evidence = EvidenceFactory(indicator=count, user=setup["lead"])
    _table, (elsewhere,) = table_with_indicators(rows=[("产出指标", "数量指标", "别处", ">=1件", Decimal("90"))])
    foreign = EvidenceFactory(indicator=elsewhere)
    client.force_login(setup["lead"])
    data = entry_data({}, action=None)
    assert client.post(page_url(setup["table"]), {**data, "remove_evidence": str(foreign.pk)}).status_code == 404
    client.force_login(setup["reviewer"])
    assert client.post(page_url(setup["table"]), {**data, "remove_evidence": str(evidence.pk)}).status_code == 403
    close_year(setup["unit"], setup["admin"])
    with pytest.raises(Exception, match="已关账"):
        evidence_remove(evidence=evidence, user=setup["lead"])
    client.force_login(setup["lead"])
    page = client.post(page_url(setup["table"]), {**data, "remove_evidence": str(evidence.pk)}).content.decode()
    assert "已关账" in page and "remove_evidence" not in page
    assert Evidence.objects.filter(pk__in=[evidence.pk, foreign.pk]).count() == 2
