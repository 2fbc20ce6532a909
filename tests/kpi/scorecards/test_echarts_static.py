"""Apache ECharts is vendored as a static file, with its licence and version."""
from pathlib import Path

from django.contrib.staticfiles import finders


def test_the_echarts_file_is_served_by_the_static_finder():
    found = finders.find("vendor/echarts/echarts.min.js")
    assert found is not None
    folder = Path(found).parent
    assert Path(found).stat().st_size > 500_000 and b"echarts" in Path(found).read_bytes()[:2000]
    assert "Apache License" in (folder / "LICENSE").read_text()
    version = (folder / "VERSION").read_text()
    assert version.startswith("Apache ECharts ") and "Apache-2.0" in version
