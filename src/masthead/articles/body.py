"""Article bodies: sanitise user HTML (nh3) and expand image references into figures.

Creators' HTML may reference an uploaded image as ``<img data-image="12">`` (alone or inside a
``<figure>``). After sanitising, each reference becomes the canonical figure markup built from the
Image row (srcset, size, caption, label, credit), so rendering a page needs no extra query.
"""

import html
import re
from dataclasses import dataclass, field

import nh3
from django.template.loader import render_to_string

from masthead.articles.models import Image

ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "blockquote", "ul", "ol", "li",
    "a", "img", "figure", "figcaption", "hr", "code", "pre", "span", "sub", "sup", "table", "thead",
    "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "data-image", "width", "height"},
    "figure": {"data-image"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_FIGURE_RE = re.compile(r"<figure\b[^>]*>.*?</figure>", re.S)
_IMAGE_REF_RE = re.compile(r'<img\b[^>]*\bdata-image="(\d+)"[^>]*>')
_REF_ATTR_RE = re.compile(r'\bdata-image="(\d+)"')
_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_END_RE = re.compile(r"</(p|h[2-4]|li|blockquote|figcaption|tr)>|<br\s*/?>")
_SPACES_RE = re.compile(r"[ \t\r\f\v]+")


def sanitize(raw: str) -> str:
    """Return HTML with only safe tags, attributes and URL schemes; scripts and handlers are dropped."""
    return nh3.clean(
        raw or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


def plain_text(fragment: str) -> str:
    """Readable plain text of sanitised HTML: block ends become newlines, entities are decoded."""
    text = _BLOCK_END_RE.sub("\n", fragment)
    text = html.unescape(_TAG_RE.sub("", text))
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def figure_html(image: Image) -> str:
    return render_to_string("articles/figure.html", {"image": image}).strip()


@dataclass
class RenderedBody:
    html: str
    text: str
    image_ids: list[int] = field(default_factory=list)


def render_body(raw: str, account_id: int | None = None) -> RenderedBody:
    """Sanitise `raw` and expand image references; images of other accounts are dropped."""
    clean = sanitize(raw)
    ids = [int(i) for i in _REF_ATTR_RE.findall(clean)]
    images = Image.objects.in_bulk(ids)
    if account_id is not None:
        images = {pk: img for pk, img in images.items() if img.account_id in (None, account_id)}

    def expand(match: re.Match) -> str:
        ref = _REF_ATTR_RE.search(match.group(0))
        if ref is None:  # a figure without one of our images: keep its sanitised content
            return match.group(0)
        image = images.get(int(ref.group(1)))
        return figure_html(image) if image else ""

    # Figures first (their captions are replaced by the image's own), then bare references.
    expanded = _FIGURE_RE.sub(expand, clean)
    expanded = _IMAGE_REF_RE.sub(expand, expanded)
    used = [pk for pk in dict.fromkeys(ids) if pk in images]
    return RenderedBody(html=expanded, text=plain_text(clean), image_ids=used)
