"""JSON Lines: one article a line, e.g.

    {"title": "…", "text": "…" | "html": "<p>…</p>", "category": "体育" | "channel": "sports",
     "author": "张三", "published": "2024-05-01T08:00:00+08:00", "tags": ["足球", "中超"], "id": "…"}

A line that is not UTF-8 or not a JSON object is refused on its own; the rest of the file goes on.
"""

import json
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from masthead.articles.actions import tag_names
from masthead.articles.importing.common import ImportedItem, Refusal, text_to_html

_DATE_FIELDS = ("published", "published_at", "date", "time", "pubDate")
_KEY_FIELDS = ("id", "guid", "url", "link")


def _first(record: dict, names: tuple[str, ...]):
    return next((record[n] for n in names if record.get(n) not in (None, "")), None)


def _tags(value) -> list[str]:
    if isinstance(value, str):
        return tag_names(value)  # "足球, 中超" or "足球、中超"
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def item_from_record(record: dict, location: str) -> ImportedItem:
    body = record.get("html")
    if not isinstance(body, str) or not body.strip():
        text = record.get("text")
        body = text_to_html(text) if isinstance(text, str) else ""
    category = _first(record, ("category", "channel")) or ""
    published = _first(record, _DATE_FIELDS)
    return ImportedItem(
        location=location,
        title=record.get("title") if isinstance(record.get("title"), str) else "",
        html=body,
        category=category if isinstance(category, str) else str(category),
        author=record.get("author") if isinstance(record.get("author"), str) else "",
        published=published if isinstance(published, str | int | float) else str(published or ""),
        tags=_tags(record.get("tags")),
        key=str(_first(record, _KEY_FIELDS) or ""),
    )


def read(path: Path) -> Iterator[ImportedItem | Refusal]:
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            location = f"{path.name}:{number}"
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield Refusal(location, _("不是 UTF-8 编码"))
                continue
            except ValueError as error:
                yield Refusal(location, _("不是合法的 JSON"), str(error)[:80])
                continue
            if not isinstance(record, dict):
                yield Refusal(location, _("不是合法的 JSON"), _("每行应是一个对象"))
                continue
            yield item_from_record(record, location)
