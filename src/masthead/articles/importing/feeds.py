"""RSS 2.0 and Atom files: each <item> / <entry> an article.

The first category names the channel (see common.ChannelChooser); further categories become tags.
The full text is taken where the feed carries it (content:encoded, Atom content), else the summary.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from masthead.articles.body import plain_text, sanitize
from masthead.articles.importing.common import ImportedItem, Refusal, text_to_html

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
_EMAIL_NAME_RE = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")  # RSS <author>: "mail@example.com (Name)"


def text(element: ET.Element | None, path: str) -> str:
    found = element.find(path) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def rss_author(item: ET.Element) -> str:
    creator = text(item, f"{DC}creator")
    if creator:
        return creator
    author = text(item, "author")
    match = _EMAIL_NAME_RE.match(author)
    if match:
        return match.group(1)
    return "" if "@" in author else author


def split_categories(names: list[str]) -> tuple[str, list[str]]:
    names = [n.strip() for n in names if n and n.strip()]
    return (names[0], names[1:]) if names else ("", [])


def read_rss(root: ET.Element, name: str) -> Iterator[ImportedItem]:
    for number, item in enumerate(root.iter("item"), start=1):
        category, tags = split_categories([c.text or "" for c in item.findall("category")])
        yield ImportedItem(
            location=f"{name} item {number}",
            title=text(item, "title"),
            html=text(item, f"{CONTENT}encoded") or text(item, "description"),
            category=category,
            author=rss_author(item),
            published=text(item, "pubDate") or text(item, f"{DC}date"),
            tags=tags,
            key=text(item, "guid") or text(item, "link"),
        )


def atom_text(element: ET.Element | None, *, as_html: bool) -> str:
    """An Atom text construct (type text, html or xhtml) as HTML, or as plain text."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "xhtml":
        div = next(iter(element), None)
        markup = "" if div is None else "".join(ET.tostring(child, encoding="unicode") for child in div)
        markup = (div.text or "") + markup if div is not None else markup
        markup = re.sub(r"<(/?)html:", r"<\1", re.sub(r"\sxmlns(:\w+)?=\"[^\"]*\"", "", markup))
    elif kind == "html":
        markup = element.text or ""
    else:
        value = (element.text or "").strip()
        return text_to_html(value) if as_html else value
    return markup if as_html else plain_text(sanitize(markup))


def read_atom(root: ET.Element, name: str) -> Iterator[ImportedItem]:
    for number, entry in enumerate(root.iter(f"{ATOM}entry"), start=1):
        content = entry.find(f"{ATOM}content")
        if content is None or content.get("src"):
            content = entry.find(f"{ATOM}summary")
        terms = [c.get("label") or c.get("term") or "" for c in entry.findall(f"{ATOM}category")]
        category, tags = split_categories(terms)
        author = text(entry.find(f"{ATOM}author"), f"{ATOM}name") or text(root.find(f"{ATOM}author"), f"{ATOM}name")
        link = entry.find(f"{ATOM}link")
        yield ImportedItem(
            location=f"{name} entry {number}",
            title=atom_text(entry.find(f"{ATOM}title"), as_html=False),
            html=atom_text(content, as_html=True),
            category=category,
            author=author,
            published=text(entry, f"{ATOM}published") or text(entry, f"{ATOM}updated"),
            tags=tags,
            key=text(entry, f"{ATOM}id") or (link.get("href", "") if link is not None else ""),
        )


def read(root: ET.Element, path: Path) -> Iterator[ImportedItem | Refusal]:
    if root.tag == f"{ATOM}feed":
        return read_atom(root, path.name)
    return read_rss(root, path.name)
