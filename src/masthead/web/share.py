"""Share targets for the article page: Weibo and QQ share links, a WeChat QR code made on the server."""

from urllib.parse import urlencode

import segno

from masthead.web.pagecache import cached_fragment

TARGETS = {
    "weibo": "https://service.weibo.com/share/share.php?{}",
    "qq": "https://connect.qq.com/widget/shareqq/index.html?{}",
}


def share_url(target: str, url: str, title: str) -> str:
    if target == "weibo":
        return TARGETS["weibo"].format(urlencode({"url": url, "title": title}))
    if target == "qq":
        return TARGETS["qq"].format(urlencode({"url": url, "title": title, "summary": title}))
    raise KeyError(target)


def qr_svg(url: str) -> str:
    """Inline SVG QR code of `url` (for 微信扫一扫); cached since it only depends on the URL."""

    def build() -> str:
        qr = segno.make(url, error="m")
        return qr.svg_inline(scale=4, border=2, dark="#111", light="#fff", omitsize=False)

    return cached_fragment(f"qr:{url}", [], build, timeout=86400)
