"""Evidence on the report page is typed by its content: a PDF/HTML polyglot named .html comes back as a .pdf,
web pages and renamed zips are refused, and files kept before these rules are judged again on download."""
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kpi.models import Evidence
from tests.factories import EvidenceFactory

from .conftest import entry_data, page_url, row_html

pytestmark = pytest.mark.django_db
POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"


def upload(client, setup, indicator, name, data):
    client.force_login(setup["lead"])
    post = entry_data({}, action=None)
    post.update({"upload": str(indicator.pk), f"evidence-{indicator.pk}": SimpleUploadedFile(name, data)})
    return client.post(page_url(setup["table"]), post)


def download(client, evidence):
    response = client.get(reverse("reports:evidence", args=[evidence.pk]))
    assert response.status_code == 200
    return response


def test_a_pdf_html_polyglot_named_html_downloads_as_a_pdf_attachment(client, setup):
    count = setup.named("培训人次")
    response = upload(client, setup, count, "报告.html", POLYGLOT)
    assert "已上传“报告.html”" in row_html(response.content.decode(), count)
    evidence = Evidence.objects.get()
    assert (evidence.original_name, evidence.content_type) == ("报告.html", "application/pdf")
    response = download(client, evidence)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf" in response["Content-Disposition"]  # 报告.pdf
    assert ".html" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == POLYGLOT  # the bytes as uploaded


@pytest.mark.parametrize("name, data", [
    ("报告.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("图.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("说明.txt", b"<html><body>hi</body></html>"),
    ("app.js", b"alert(document.cookie)"),
])
def test_web_pages_svg_and_scripts_are_refused_beside_the_row(client, setup, name, data):
    count = setup.named("培训人次")
    row = row_html(upload(client, setup, count, name, data).content.decode(), count)
    assert f"“{name}”未上传：不接受网页（HTML）、SVG 图片、XML 或脚本文件作为佐证资料" in row
    assert not Evidence.objects.exists()


def test_a_plain_zip_renamed_docx_is_refused(client, setup):
    count = setup.named("培训人次")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    row = row_html(upload(client, setup, count, "报告.docx", buffer.getvalue()).content.decode(), count)
    assert "“报告.docx”未上传：文件扩展名为 .docx，但内容不是“Word 文档”" in row
    assert not Evidence.objects.exists()


def test_plain_text_is_accepted_and_downloads_as_text(client, setup):
    count = setup.named("培训人次")
    upload(client, setup, count, "名单.csv", "姓名,人数\n王芳,3\n".encode())
    response = download(client, Evidence.objects.get())
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].endswith("%E5%90%8D%E5%8D%95.csv")  # 名单.csv


def test_a_file_kept_before_these_rules_is_typed_by_its_stored_content(client, setup):
    """Rows kept by older code name their type and extension by what it believed: the download judges the
    stored bytes again (the row is legacy data, so it is written directly)."""
    count = setup.named("培训人次")
    kept = EvidenceFactory(indicator=count, user=setup["lead"])
    kept.file.save("legacy", ContentFile(POLYGLOT), save=False)
    Evidence.objects.filter(pk=kept.pk).update(file=kept.file.name, original_name="报告.html",
                                               content_type="text/html")
    client.force_login(setup["lead"])
    response = download(client, kept)
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].endswith(".pdf")

    page = EvidenceFactory(indicator=count, user=setup["lead"])
    page.file.save("legacy", ContentFile(b"<html><script>alert(1)</script></html>"), save=False)
    Evidence.objects.filter(pk=page.pk).update(file=page.file.name, original_name="通知.html",
                                               content_type="text/html")
    response = download(client, page)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].endswith("%E9%80%9A%E7%9F%A5.bin")  # 通知.bin, never .html
    assert response["X-Content-Type-Options"] == "nosniff"
