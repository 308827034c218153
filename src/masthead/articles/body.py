"""Article bodies: sanitise user HTML (nh3) and expand image references into figures.

Creators' HTML may reference an uploaded image as ``<img data-image="12">`` (alone or inside a
``<figure>``). After sanitising, each reference becomes the canonical figure markup built from the
Image row (srcset, size, caption, label, credit), so rendering a page needs no extra query. The
canonical figure keeps ``data-image`` on the ``<figure>``, so saving a rendered body again gives the
same body (an edit round-trip keeps each figure once). Images from elsewhere (``<img src>``) are
not kept: they would bypass review, labels and alt text, and tell third parties who reads what.
"""

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from masthead.articles.models import Image

ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "blockquote", "ul", "ol", "li",
    "a", "img", "figure", "figcaption", "hr", "code", "pre", "span", "sub", "sup", "table", "thead",
    "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"data-image"},
    "figure": {"data-image"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

# Elements a <figure> may stand in; any other open element is closed around it and reopened after.
_FLOW_CONTAINERS = {"li", "blockquote", "td", "th"}
_VOID = {"br", "hr", "img"}
_IMAGE_ID_RE = re.compile(r"\d{1,18}")  # fits a 64-bit key: bigger numbers would crash the query
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMPTY_RE = re.compile(r"<(p|h[2-4]|strong|b|em|i|u|s|span|code|sub|sup)>\s*</\1>")
_BLOCK_END_RE = re.compile(r"</(?:p|h[2-6]|li|blockquote|figcaption|figure|tr|pre|ul|ol|table)>|<(?:br|hr)\b[^>]*>")
_CELL_END_RE = re.compile(r"</t[dh]>")
_TAG_RE = re.compile(r"<[^>]+>")
_SPACES_RE = re.compile(r"[ \t\r\f\v\xa0]+")


def clean_text(value: str | bytes | None) -> str:
    """Text without what no page or database can hold: bytes that are not UTF-8, lone surrogates
    (which JSON lets through), NUL and other control characters. Readable content is kept."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "ignore")
    value = (value or "").encode("utf-8", "ignore").decode("utf-8")
    return _CONTROL_RE.sub("", value)


def sanitize(raw: str | bytes | None) -> str:
    """Return HTML with only safe tags, attributes and URL schemes; scripts and handlers are dropped."""
    return nh3.clean(
        clean_text(raw),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow ugc",
        strip_comments=True,
    )


def plain_text(fragment: str) -> str:
    """Readable plain text of sanitised HTML: one line per block, entities decoded."""
    text = _CELL_END_RE.sub(" ", _BLOCK_END_RE.sub("\n", fragment))
    text = html.unescape(_TAG_RE.sub("", text))
    lines = (_SPACES_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def figure_html(image: Image) -> str:
    # Stored once for every reader, so always in the site's language, not the editor's.
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("articles/figure.html", {"image": image}).strip()


def _image_id(attrs: list[tuple[str, str | None]]) -> int | None:
    value = dict(attrs).get("data-image") or ""
    return int(value) if _IMAGE_ID_RE.fullmatch(value) else None


class _Expander(HTMLParser):
    """Copy sanitised HTML through, replacing image references by placeholders (lists of image ids).

    A figure is read whole: it becomes the figures of the images it references, or stays as written
    when it references none (a pull quote, say). A bare reference inside a paragraph closes the
    paragraph, so the figure never ends up where HTML does not allow it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str | list[int]] = []
        self.open: list[tuple[str, str]] = []  # (tag, start tag text) of open elements
        self.figure: list[str] = []  # the figure being read, as written
        self.figure_refs: list[int] = []
        self.depth = 0  # nesting of <figure> elements being read

    def _emit(self, text: str) -> None:
        (self.figure if self.depth else self.out).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        text, ref = self.get_starttag_text() or "", _image_id(attrs)
        if tag == "img" and ref is None:
            return  # not one of ours: pictures from elsewhere are not kept
        if tag == "figure" and not self.depth:
            self.figure, self.figure_refs = [], []
        if self.depth or tag == "figure":
            self.depth += tag == "figure"
            self.figure.append(text)
            self.figure_refs += [ref] if ref is not None else []
        elif tag == "img":
            self._place([ref])
        else:
            self.out.append(text)
            if tag not in _VOID:
                self.open.append((tag, text))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.depth:
            self.out.append(f"</{tag}>")
            if self.open and self.open[-1][0] == tag:
                self.open.pop()
            return
        self.figure.append(f"</{tag}>")
        self.depth -= tag == "figure"
        if not self.depth:
            self._finish_figure()

    def _finish_figure(self) -> None:
        if self.figure_refs:
            self._place(list(dict.fromkeys(self.figure_refs)))
        else:
            self.out.extend(self.figure)

    def _place(self, refs: list[int]) -> None:
        keep = len(self.open)
        while keep and self.open[keep - 1][0] not in _FLOW_CONTAINERS:
            keep -= 1
        inner = self.open[keep:]
        self.out.extend(f"</{tag}>" for tag, _ in reversed(inner))
        self.out.append(refs)
        self.out.extend(text for _, text in inner)

    def handle_data(self, data: str) -> None:
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};")

    def close(self) -> None:
        super().close()
        if self.depth:  # cannot happen with nh3's balanced output; never lose text if it does
            self.depth = 0
            self._finish_figure()


@dataclass
class RenderedBody:
    html: str
    text: str
    image_ids: list[int] = field(default_factory=list)


def _join(parts: list[str | list[int]], figures: dict[int, str]) -> str:
    out = "".join(p if isinstance(p, str) else "".join(figures.get(pk, "") for pk in p) for p in parts)
    previous = None
    while previous != out:  # closing a paragraph around a figure may leave it empty
        previous, out = out, _EMPTY_RE.sub("", out)
    return out


def _usable_images(ids: list[int], account_id: int | None) -> dict[int, Image]:
    """The referenced images the author may use (their own or the platform's), in one query."""
    if not ids:
        return {}
    images = Image.objects.in_bulk(ids)
    if account_id is None:
        return images
    return {pk: img for pk, img in images.items() if img.account_id in (None, account_id)}


def render_body(raw: str | bytes | None, account_id: int | None = None) -> RenderedBody:
    """Sanitise `raw` and expand image references; images of other accounts are dropped."""
    expander = _Expander()
    expander.feed(sanitize(raw))
    expander.close()
    ids = list(dict.fromkeys(pk for part in expander.out if isinstance(part, list) for pk in part))
    images = _usable_images(ids, account_id)
    figures = {pk: figure_html(image) for pk, image in images.items()}
    return RenderedBody(
        html=_join(expander.out, figures),
        # Captions, labels and credits describe pictures, not the story: keep them out of the text.
        text=plain_text(_join(expander.out, {})),
        image_ids=[pk for pk in ids if pk in images],
    )
