"""`masthead backup` / `masthead restore`: the database and the uploaded files in one archive.

The archive is a gzipped tar holding `manifest.json`, the database (SQLite: a consistent copy made
with SQLite's online backup API while the site runs; PostgreSQL: `pg_dump --format=custom`), the
media folder, the private folder (qualification documents) and the secret key (so sessions and
signed links survive a restore: keep backups as safe as the server). Restore refuses an archive
made on another kind of database, replaces the database and the files, and empties the cache.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connections

from masthead.ops import planner
from masthead.ops.storage import remote_backup_folders
from masthead.web import pagecache

FORMAT_VERSION = 1
FOLDERS = {"media": lambda: Path(settings.MEDIA_ROOT), "private": lambda: Path(settings.DATA_DIR) / "private"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass
class Summary:
    path: Path
    engine: str
    files: int
    bytes: int
    remote: dict[str, str] = field(default_factory=dict)  # folders left out: they are in object storage


def _engine() -> str:
    vendor = connections["default"].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore from Django's settings (password in the environment)."""
    db = connections["default"].settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or os.environ.get("PGPASSWORD", "")}
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools are needed)") from error
    except subprocess.CalledProcessError as error:
        raise BackupError(f"{command[0]} failed: {error.stderr.strip()[:500]}") from error


def _dump_database(engine: str, folder: Path) -> str:
    if engine == "sqlite":
        target = folder / "db.sqlite3"
        copy = sqlite3.connect(target)
        with copy:
            _sqlite_connection().backup(copy)  # a consistent snapshot even while the site writes
        copy.close()
        return target.name
    args, env = _pg_env()
    target = folder / "db.pgdump"
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), *args], env)
    return target.name


def create_backup(path: str | Path) -> Summary:
    """Write a backup archive to `path` (a .tar.gz); returns what went into it."""
    path = Path(path)
    engine = _engine()
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        database = _dump_database(engine, staging)
        remote = remote_backup_folders()  # object storage is backed up by its provider (bucket versioning)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "engine": engine,
            "database": database,
            "folders": [name for name, folder in FOLDERS.items() if name not in remote and folder().is_dir()],
            "remote": remote,
            "secret_key": (Path(settings.DATA_DIR) / "secret_key").is_file(),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        files = 0
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(staging / "manifest.json", "manifest.json")
            archive.add(staging / database, database)
            for name in manifest["folders"]:
                archive.add(FOLDERS[name](), name)
                files += sum(1 for p in FOLDERS[name]().rglob("*") if p.is_file())
            if manifest["secret_key"]:
                archive.add(Path(settings.DATA_DIR) / "secret_key", "secret_key")
        partial.replace(path)  # a backup interrupted half-way never looks like a good one
    return Summary(path=path, engine=engine, files=files, bytes=path.stat().st_size, remote=remote)


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, json.JSONDecodeError) as error:
        raise BackupError("not a Masthead backup: manifest.json is missing or broken") from error
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format')} is not supported (expected {FORMAT_VERSION})")
    return manifest


def _sqlite_connection() -> sqlite3.Connection:
    connection = connections["default"]
    connection.ensure_connection()
    return connection.connection


def _restore_database(engine: str, source: Path) -> None:
    if engine == "sqlite":
        # The backup API writes the archive's pages into the live database under SQLite's own locks
        # (other processes wait, then see the restored data), WAL and all; no file is swapped under them.
        copy = sqlite3.connect(source)
        copy.backup(_sqlite_connection())
        copy.close()
        return
    connections.close_all()
    args, env = _pg_env()
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
          *args, str(source)], env)  # fmt: skip
    planner.analyze()  # pg_restore brings the rows, not the statistics the planner needs for them


def _replace_folder(target: Path, source: Path | None) -> None:
    """Swap `target` for `source` (or make it empty): the old files are kept aside until the new are in place."""
    old = target.with_name(target.name + ".before-restore")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    if source is not None:
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def restore_backup(path: str | Path) -> dict:
    """Replace the database and files with those in the archive at `path`; returns its manifest."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    engine = _engine()
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r:gz") as archive:
        manifest = _read_manifest(archive)
        if manifest["engine"] != engine:
            raise BackupError(
                f"this backup holds a {manifest['engine']} database and the site runs on {engine}; "
                "restore it on the same kind of database (or move data with dumpdata/loaddata)"
            )
        archive.extractall(tmp, filter="data")  # refuses absolute paths, links out of the folder, devices
        staging = Path(tmp)
        _restore_database(engine, staging / manifest["database"])
        manifest["skipped"] = remote_backup_folders()  # in object storage now: its files are left as they are
        for name, folder in FOLDERS.items():
            if name in manifest["skipped"]:
                continue
            _replace_folder(folder(), staging / name if name in manifest["folders"] else None)
        if manifest.get("secret_key") and not os.environ.get("SECRET_KEY"):
            shutil.copyfile(staging / "secret_key", Path(settings.DATA_DIR) / "secret_key")
    pagecache.clear_all()  # cached pages and fragments describe the data that was replaced
    return manifest
