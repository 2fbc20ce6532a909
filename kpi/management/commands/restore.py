"""python manage.py restore BACKUP_DIR --yes — bring a backup back (the database and the media files)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kpi.backups.services import BackupError, backup_check, backup_restore


class Command(BaseCommand):
    help = "从备份目录恢复数据库和上传的文件（当前数据会被替换）。"

    def add_arguments(self, parser):
        parser.add_argument("folder", help="backup 命令写出的备份目录")
        parser.add_argument("--yes", action="store_true", help="确认用备份替换当前的全部数据")

    def handle(self, *args, folder, yes, **options):
        try:
            manifest = backup_check(folder=Path(folder))
            if not yes:
                raise CommandError(f"恢复会用 {manifest['created_at']} 的备份替换当前全部数据：确认请加 --yes。")
            backup_restore(folder=Path(folder))
        except (BackupError, OSError) as error:
            raise CommandError(f"恢复失败：{error}") from None
        self.stderr.write(f"已从 {folder} 恢复（备份时间 {manifest['created_at']}）。")
