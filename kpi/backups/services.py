"""Writing a backup (database + media files) and restoring one.

A backup is a folder `jixiao-backup-<UTC time>` holding the database (SQLite: an online copy made with
SQLite's backup API, consistent even while the site writes; PostgreSQL: `pg_dump --format=custom`), a copy
of MEDIA_ROOT (evidence files, kept 自评 reports) and `manifest.json` (when, which engine, the migrations
applied, and a SHA-256 of every file, checked before anything is restored).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.recorder import MigrationRecorder

MANIFEST = "manifest.json"
SQLITE_FILE = "db.sqlite3"
POSTGRES_FILE = "db.dump"
MEDIA_DIR = "media"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (Chinese) says why."""


def backup_write(*, out: Path) -> Path:
    """Write a backup into a new folder under `out`; returns the folder."""
    out = Path(out)
    if not out.is_dir():
        raise BackupError(f"备份目录不存在：{out}")
    folder = out / f"jixiao-backup-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S-%f}"
    folder.mkdir()
    try:
        engine = connection.vendor
        if engine == "sqlite":
            _sqlite_copy(source=Path(connection.settings_dict["NAME"]), target=folder / SQLITE_FILE)
        elif engine == "postgresql":
            _pg_dump(folder / POSTGRES_FILE)
        else:  # pragma: no cover - the project runs on SQLite or PostgreSQL only
            raise BackupError(f"不支持备份 {engine} 数据库。")
        media = Path(settings.MEDIA_ROOT)
        if media.is_dir():
            shutil.copytree(media, folder / MEDIA_DIR)
        else:
            (folder / MEDIA_DIR).mkdir()
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "engine": engine,
            "migrations": _applied_migrations(),
            "files": {str(path.relative_to(folder)): _sha256(path) for path in sorted(folder.rglob("*"))
                      if path.is_file()},
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never leave half a backup that looks whole
        raise
    return folder


def backup_check(*, folder: Path) -> dict:
    """The manifest of a backup folder, after checking that every file is there and unchanged."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"“{folder}”不是 Jixiao 备份（没有可读的 {MANIFEST}）。") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 无法识别。")
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"备份不完整：缺少文件 {name}。")
        if _sha256(path) != digest:
            raise BackupError(f"备份已损坏：文件 {name} 的校验值不符。")
    return manifest


def backup_restore(*, folder: Path) -> dict:
    """Replace the database and the media files with a backup's (checked first). Returns its manifest.

    The backup must come from the same kind of database; its migrations must be known to this code
    (a backup from a newer version is refused: run the newer code, or migrate after restoring).
    """
    folder = Path(folder)
    manifest = backup_check(folder=folder)
    engine = connection.vendor
    if manifest["engine"] != engine:
        raise BackupError(f"该备份来自 {manifest['engine']} 数据库，当前数据库是 {engine}，不能直接恢复。")
    known = {f"{app}.{name}" for app, name in _known_migrations()}
    unknown = sorted(set(manifest["migrations"]) - known)
    if unknown:
        raise BackupError("该备份来自更新的版本，当前代码不认识其迁移：" + "、".join(unknown[:5]))
    connections.close_all()
    if engine == "sqlite":
        _sqlite_copy(source=folder / SQLITE_FILE, target=Path(connection.settings_dict["NAME"]))
    else:
        _pg_restore(folder / POSTGRES_FILE)
    media = Path(settings.MEDIA_ROOT)
    staged = media.with_name(media.name + ".restoring")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(folder / MEDIA_DIR, staged)
    if media.exists():
        shutil.rmtree(media)
    staged.rename(media)
    return manifest


# --- the pieces ----------------------------------------------------------------------------------------

def _sqlite_copy(*, source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while another connection writes (WAL included)."""
    if not source.is_file():
        raise BackupError(f"数据库文件不存在：{source}")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _pg_environment() -> tuple[list[str], dict]:
    db = connection.settings_dict
    args = ["--host", db.get("HOST") or "localhost", "--port", str(db.get("PORT") or 5432),
            "--username", db.get("USER") or "", "--dbname", db["NAME"]]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    return args, env


def _run(command: list[str], env: dict, what: str) -> None:
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"找不到 {command[0]}：请安装 PostgreSQL 客户端工具（postgresql-client）。") from None
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise BackupError(f"{what}失败：{detail[0]}") from None


def _pg_dump(target: Path) -> None:
    args, env = _pg_environment()
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env, "pg_dump 备份")


def _pg_restore(source: Path) -> None:
    args, env = _pg_environment()
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(source)], env,
         "pg_restore 恢复")


def _applied_migrations() -> list[str]:
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def _known_migrations():
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(None, ignore_no_migrations=True).disk_migrations.keys()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
