"""`masthead backup` and `masthead restore`: a round trip brings back the database and the files."""

import io
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from masthead.articles.models import Article, Image
from masthead.ops.backup import BackupError, create_backup, restore_backup
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_backup_round_trip_restores_articles_and_uploaded_files(tmp_path, settings):
    kept = factories.article(title="备份之前写好的文章")
    picture = factories.image(alt="备份里的图片")
    picture_file = Path(settings.MEDIA_ROOT) / picture.file.name
    original_bytes = picture_file.read_bytes()
    archive = tmp_path / "site.tar.gz"

    out = io.StringIO()
    call_command("backup", str(archive), stdout=out)
    assert "Backed up" in out.getvalue() and archive.is_file()

    # Everything after the backup is lost by the restore; everything before comes back.
    Article.objects.filter(pk=kept.pk).update(title="备份之后改坏的标题")
    later = factories.article(title="备份之后的新文章")
    picture_file.unlink()
    call_command("restore", str(archive), "--yes", stdout=io.StringIO())

    assert Article.objects.get(pk=kept.pk).title == "备份之前写好的文章"
    assert not Article.objects.filter(pk=later.pk).exists()
    assert picture_file.read_bytes() == original_bytes
    assert Image.objects.filter(pk=picture.pk).exists()
    if connection.vendor == "postgresql":  # pg_restore brings no planner statistics: the restore makes them
        assert _has_statistics("articles_article")


def _has_statistics(table: str) -> bool:
    """Whether ANALYZE has described the table's columns (CREATE INDEX alone does not)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [table])
        return cursor.fetchone()[0] > 0


def test_a_bulk_load_leaves_the_planner_statistics_fresh():
    from masthead.discovery import rebuild

    for n in range(3):
        factories.article(title=f"批量导入的第{n}篇")
    rebuild.after_bulk_load(lambda _msg: None)
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps no statistics unless asked (masthead/ops/planner.py)")
    assert _has_statistics("articles_article")


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(tmp_path):
    article = factories.article(title="不能丢的文章")
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as archive:
        data = b"hello"
        info = tarfile.TarInfo("readme.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError, match=r"manifest\.json"):
        restore_backup(bogus)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.tar.gz"), "--yes")
    assert Article.objects.get(pk=article.pk).title == "不能丢的文章"


def test_restore_refuses_a_backup_of_another_kind_of_database(tmp_path):
    archive = tmp_path / "site.tar.gz"
    create_backup(archive)
    other = tmp_path / "other.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(other, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None
            if member.name == "manifest.json":
                data = (
                    data.replace(b'"sqlite"', b'"x"')
                    .replace(b'"postgresql"', b'"sqlite"')
                    .replace(b'"x"', b'"postgresql"')
                )
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    with pytest.raises(BackupError, match="same kind of database"):
        restore_backup(other)


def test_an_archive_with_paths_outside_its_folder_is_not_unpacked(tmp_path):
    archive = tmp_path / "site.tar.gz"
    create_backup(archive)
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(hostile, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        target.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.OutsideDestinationError):
        restore_backup(hostile)
    assert not (tmp_path / "escaped.txt").exists()
