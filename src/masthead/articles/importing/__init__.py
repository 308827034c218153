"""Bringing articles in from other systems: `masthead import PATH...` (see docs/import.md).

`read(path)` picks the reader by the file's content: JSON Lines, RSS 2.0, Atom or WordPress WXR.
"""

from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from masthead.articles.importing import feeds, jsonl, safexml, wxr
from masthead.articles.importing.common import ImportedItem, Importer, Refusal

__all__ = ["ImportedItem", "Importer", "Refusal", "read"]

_JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}


def _looks_like_xml(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def read(path: Path) -> Iterator[ImportedItem | Refusal | None]:
    """Items of one file (None for entries that are not articles, e.g. WordPress pages)."""
    if path.suffix.lower() in _JSON_SUFFIXES or not _looks_like_xml(path):
        yield from jsonl.read(path)
        return
    try:
        root = safexml.parse(path)
    except safexml.UnsafeXML:
        yield Refusal(path.name, _("XML 含有实体声明，已拒绝整个文件"))
        return
    except safexml.BrokenXML as error:
        yield Refusal(path.name, _("XML 格式错误，已拒绝整个文件"), str(error)[:80])
        return
    if root.tag not in ("rss", f"{feeds.ATOM}feed"):
        yield Refusal(path.name, _("不认识的文件格式"), root.tag[:80])
    elif wxr.is_wxr(root):
        yield from wxr.read(root, path)
    else:
        yield from feeds.read(root, path)
