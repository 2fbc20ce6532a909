"""python manage.py backup --out DIR — a consistent copy of the database and the media files."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kpi.backups.services import BackupError, backup_write


class Command(BaseCommand):
    help = "备份数据库（SQLite 在线备份或 pg_dump）和上传的文件到 DIR 下的新目录。"

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="备份写入的目录（须已存在）")

    def handle(self, *args, out, **options):
        try:
            folder = backup_write(out=Path(out))
        except (BackupError, OSError) as error:
            raise CommandError(f"备份失败：{error}") from None
        self.stdout.write(str(folder))
        self.stderr.write(f"已备份到 {folder}")
