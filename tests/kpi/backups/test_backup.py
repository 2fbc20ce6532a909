"""backup and restore: a round trip brings back exactly what was there, on the configured database."""
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from budgets.models import Unit
from kpi.backups.services import BackupError, backup_check, backup_restore, backup_write
from kpi.models import Evidence
from tests.factories import EvidenceFactory, UnitFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_round_trip_brings_back_the_rows_and_the_files(tmp_path, media, monkeypatch):
    from kpi.rescoring.tasks import rescore_table

    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    kept = UnitFactory(name="备份前的单位")
    evidence = EvidenceFactory()
    stored = Path(media) / evidence.file.name
    original = stored.read_bytes()

    folder = backup_write(out=tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["engine"] in ("sqlite", "postgresql") and f"media/{evidence.file.name}" in manifest["files"]

    UnitFactory(name="备份后新增的单位")
    Unit.objects.filter(pk=kept.pk).update(name="改过的名称")
    stored.write_bytes(b"changed")
    (Path(media) / "stray.txt").write_text("after the backup")

    backup_restore(folder=folder)
    assert set(Unit.objects.values_list("name", flat=True)) == {"备份前的单位", evidence.indicator.table.unit.name}
    assert stored.read_bytes() == original and not (Path(media) / "stray.txt").exists()
    assert Evidence.objects.get().sha256 == evidence.sha256


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path):
    UnitFactory(name="现有单位")
    folder = backup_write(out=tmp_path)
    database = next(p for p in folder.iterdir() if p.name.startswith("db."))
    database.write_bytes(database.read_bytes()[:-10] + b"0123456789")
    UnitFactory(name="之后新增")
    with pytest.raises(BackupError, match="已损坏"):
        backup_restore(folder=folder)
    assert Unit.objects.filter(name="之后新增").exists()


def test_the_commands(tmp_path, capsys):
    UnitFactory(name="命令备份的单位")
    call_command("backup", "--out", str(tmp_path))
    folder = Path(capsys.readouterr().out.strip())
    assert backup_check(folder=folder)["files"]
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(folder))
    UnitFactory(name="稍后")
    call_command("restore", str(folder), "--yes")
    assert not Unit.objects.filter(name="稍后").exists()
    with pytest.raises(CommandError, match="备份目录不存在"):
        call_command("backup", "--out", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="不是 Jixiao 备份"):
        call_command("restore", str(tmp_path), "--yes")
