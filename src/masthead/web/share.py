"""Share targets for the article page: Weibo and QQ share links, a WeChat QR code made on the server."""

from urllib.parse import quote, urlencode

import segno

from masthead.web.pagecache import cached_fragment

TARGETS = {
    "weibo": "https://service.weibo.com/share/share.php?{}",
    "qq": "https://connect.qq.com/widget/shareqq/index.html?{}",
}
QR_ERROR = "m"  # 15 % of the code may be damaged (a phone screen photographed at an angle) and still scan.


def share_url(target: str, url: str, title: str, *, summary: str = "", image: str = "") -> str:
    """The share service's address for an article. `url` must be absolute: it is what friends open."""
    if target == "weibo":
        params = {"url": url, "title": title, "pic": image}
    elif target == "qq":
        params = {"url": url, "title": title, "summary": summary or title, "pics": image}
    else:
        raise KeyError(target)
    # %20 rather than "+": the QQ page decodes with decodeURIComponent, which leaves "+" as it is.
    return TARGETS[target].format(urlencode({k: v for k, v in params.items() if v}, quote_via=quote))


def qr_svg(url: str) -> str:
    """Inline SVG QR code of `url` (for 微信扫一扫); cached since it only depends on the URL."""

    def build() -> str:
        # make_qr: segno.make would pick a Micro QR for a short URL, which WeChat cannot scan.
        qr = segno.make_qr(url, error=QR_ERROR)
        return qr.svg_inline(scale=4, border=2, dark="#111", light="#fff", omitsize=False)

    return cached_fragment(f"qr:{url}", [], build, timeout=86400)
