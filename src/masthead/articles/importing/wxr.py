"""WordPress export files (WXR): published posts become articles.

Only items with wp:post_type "post" and wp:status "publish" are imported; pages, attachments,
drafts and private posts are counted as ignored. Categories (domain "category") name the channel,
tags (domain "post_tag") become tags, dc:creator (a login) is shown by its wp:author display name.
WordPress stores paragraphs as blank lines (wpautop on output); they are turned into <p> here.
"""

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from masthead.articles.importing.common import ImportedItem
from masthead.articles.importing.feeds import CONTENT, DC, text

_BLOCK_RE = re.compile(r"<(?:p|div|h[1-6]|ul|ol|blockquote|figure|table|pre)\b", re.IGNORECASE)
_GMT_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def is_wxr(root: ET.Element) -> bool:
    return any(_wp_ns(element.tag) for element in root.iter() if element.tag.startswith("{"))


def _wp_ns(tag: str) -> str:
    ns = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
    return "{" + ns + "}" if ns.startswith("http://wordpress.org/export/") else ""


def autop(content: str) -> str:
    """Paragraphs from blank lines, line breaks from single ones, as WordPress shows its posts."""
    if _BLOCK_RE.search(content):
        return content
    paragraphs = (p.strip() for p in re.split(r"\n\s*\n", content.replace("\r\n", "\n")))
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs if p)


def read(root: ET.Element, path: Path) -> Iterator[ImportedItem | None]:
    wp = next((ns for ns in map(_wp_ns, (e.tag for e in root.iter())) if ns), "{http://wordpress.org/export/1.2/}")
    authors = {text(a, f"{wp}author_login"): text(a, f"{wp}author_display_name") for a in root.iter(f"{wp}author")}
    for number, item in enumerate(root.iter("item"), start=1):
        if text(item, f"{wp}post_type") != "post" or text(item, f"{wp}status") != "publish":
            yield None
            continue
        categories = [c for c in item.findall("category") if c.get("domain") == "category"]
        tags = [html.unescape(c.text or "") for c in item.findall("category") if c.get("domain") == "post_tag"]
        login = text(item, f"{DC}creator")
        gmt = text(item, f"{wp}post_date_gmt")
        published = f"{gmt.replace(' ', 'T')}+00:00" if _GMT_RE.match(gmt) and not gmt.startswith("0000") else ""
        yield ImportedItem(
            location=f"{path.name} item {number}",
            title=text(item, "title"),
            html=autop(text(item, f"{CONTENT}encoded")),
            category=html.unescape(categories[0].text or "") if categories else "",
            author=authors.get(login) or login,
            published=published or text(item, f"{wp}post_date") or text(item, "pubDate"),
            tags=tags + [html.unescape(c.text or "") for c in categories[1:]],
            key=text(item, "guid") or text(item, "link"),
        )
