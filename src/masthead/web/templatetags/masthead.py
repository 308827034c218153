"""Template helpers: responsive pictures, times as readers expect them, share links."""

import re
from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from masthead.articles.models import Image, ImageLabel
from masthead.web.pagecache import cached_fragment

register = template.Library()


@register.simple_tag
def picture(image: Image | None, sizes: str = "100vw", css_class: str = "", eager: bool = False) -> str:
    """An <img> with WebP srcset, intrinsic size (no layout shift) and its alt text."""
    if image is None:
        return ""
    return format_html(
        '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}" class="{}" loading="{}" '
        'decoding="async">',
        image.url_for_width(640),
        image.srcset,
        sizes,
        image.width,
        image.height,
        image.alt,
        css_class,
        "eager" if eager else "lazy",
    )


@register.filter
def fulltime(value: datetime | None) -> str:
    """Asia/Shanghai time as YYYY-MM-DD HH:MM:SS."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


@register.filter
def ago(value: datetime | None) -> str:
    """Relative time (刚刚, 5分钟前, 3小时前, 2天前), the date for older items."""
    if not value:
        return ""
    seconds = (timezone.now() - value).total_seconds()
    if seconds < 60:
        return _("刚刚")
    if seconds < 3600:
        n = int(seconds // 60)
        return ngettext("%(n)d分钟前", "%(n)d分钟前", n) % {"n": n}
    if seconds < 86400:
        n = int(seconds // 3600)
        return ngettext("%(n)d小时前", "%(n)d小时前", n) % {"n": n}
    if seconds < 7 * 86400:
        n = int(seconds // 86400)
        return ngettext("%(n)d天前", "%(n)d天前", n) % {"n": n}
    return timezone.localtime(value).strftime("%Y-%m-%d")


_FIGURE_LABEL_RE = re.compile(r'<span class="img-label" data-label="(\w*)">[^<]*</span>')


@register.filter
def localize_figures(body_html: str) -> str:
    """Stored bodies carry figure labels in the site language; show them in the reader's.

    The body was sanitised on save, so it is marked safe here."""
    if (get_language() or settings.LANGUAGE_CODE) == settings.LANGUAGE_CODE:
        return mark_safe(body_html)

    def label(match: re.Match) -> str:
        try:
            text = ImageLabel(match.group(1)).label
        except ValueError:
            return match.group(0)
        return format_html(
            '<span class="img-label" data-label="{}">{}</span>', match.group(1), _("（%(label)s）") % {"label": text}
        )

    return mark_safe(_FIGURE_LABEL_RE.sub(label, body_html))


# Short counts in the reader's number system: 万/亿 steps in Chinese, K/M/B in other languages.
_UNITS = {
    "zh": ((100_000_000, "亿"), (10_000, "万")),
    "": ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")),
}


@register.filter
def wan(value: int | None) -> str:
    """12345 → 1.2万 in Chinese, 12.3K in English."""
    value = int(value or 0)
    units = _UNITS["zh" if (get_language() or "zh").startswith("zh") else ""]
    for i, (size, suffix) in enumerate(units):
        if value >= size:
            shown = round(value / size, 1)
            if i and shown >= units[i - 1][0] // size:  # 999,950 → 1M, not 1000K
                size, suffix = units[i - 1]
                shown = round(value / size, 1)
            return f"{shown:.1f}".rstrip("0").rstrip(".") + suffix
    return str(value)


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, timeout, vary):
        self.nodelist, self.name, self.timeout, self.vary = nodelist, name, timeout, vary

    def render(self, context) -> str:
        parts = [str(self.name.resolve(context)), get_language() or "", *(str(v.resolve(context)) for v in self.vary)]
        return cached_fragment(
            "html:" + ":".join(parts),
            ["fronts"],
            lambda: self.nodelist.render(context),
            int(self.timeout.resolve(context)),
        )


@register.tag
def fragment(parser, token):
    """{% fragment "name" seconds [vary …] %}…{% endfragment %}: cache rendered HTML until "fronts" is
    purged or the time runs out, per language. Pass the data as lazy callables so a hit skips the queries."""
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError('usage: {% fragment "name" seconds [vary …] %}')
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(
        nodelist, *(parser.compile_filter(b) for b in bits[1:3]), [parser.compile_filter(b) for b in bits[3:]]
    )
