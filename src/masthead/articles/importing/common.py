"""What every import format shares: the item a reader yields, and the importer that checks and stores it.

Readers (jsonl, feeds, wxr) only turn a file into `ImportedItem`s (or `Refusal`s for what they cannot
read); everything else is decided here, once for all formats:

- refusals with a reason: no title, a title too long, an empty body after sanitising, a date that
  cannot be read or lies in the future, a category no channel is mapped to, blocked sensitive words;
- hostile HTML is made inert by the body sanitiser (articles.body.render_body) and reported;
- creator accounts are found by name or created (handle from the name's pinyin, made unique);
- a re-import skips what is already there: the article imported from the same source id (guid, id or
  link, kept hashed in Article.import_key) or, for items without one, an article of the same account
  with the same title and publication time (or the same title, when the item has no date);
- articles are created and published through articles.actions, so the indexing receivers of search
  and 相关推荐 run as for any published article. In bulk mode the per-article signals are skipped and
  the indexes are rebuilt once at the end (masthead.discovery.rebuild).
"""

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from masthead.accounts import actions as account_actions
from masthead.accounts.applications import HANDLE_RE, RESERVED_HANDLES, clean_name
from masthead.accounts.models import Account
from masthead.articles import actions
from masthead.articles.body import clean_text
from masthead.articles.models import Article
from masthead.channels.models import Channel
from masthead.discovery import rebuild
from masthead.moderation import screening
from masthead.web import pagecache

TITLE_LIMIT = Article._meta.get_field("title").max_length
NAME_LIMIT = Account._meta.get_field("name").max_length
DEFAULT_AUTHOR = "佚名"
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones of feeds are often a little off
# Markup that only an attack or a careless paste puts in an article; the sanitiser drops it, we report it.
_HOSTILE_RE = re.compile(
    r"<\s*(?:script|iframe|object|embed|style|form|input|svg|math|meta|link|base)\b|\son[a-z]+\s*=|javascript\s*:",
    re.IGNORECASE,
)
_ZERO_DATE_RE = re.compile(r"^0000-00-00")  # WordPress' "no date" (drafts, some imports)


def import_key(source_id: str) -> str:
    """A fixed-length key for the source's own id (guid, id or link); '' when the item has none."""
    source_id = (source_id or "").strip()
    return hashlib.sha1(source_id.encode()).hexdigest() if source_id else ""


@dataclass
class ImportedItem:
    """One article as a reader found it; nothing is checked yet. `html` is untrusted."""

    location: str  # "file.jsonl:12", "feed.xml item 3": where to look when it is refused
    title: str = ""
    html: str = ""
    category: str = ""
    author: str = ""
    published: str | int | float | datetime | None = None  # as written in the file
    tags: list[str] = field(default_factory=list)
    key: str = ""  # the source's own id (guid, link, id): what a re-import recognises


@dataclass
class Refusal:
    location: str
    reason: str  # short and without specifics, so refusals group by it
    detail: str = ""


@dataclass
class Report:
    imported: int = 0
    skipped: int = 0  # already there
    ignored: int = 0  # not articles (WordPress pages, attachments, drafts)
    held: list[str] = field(default_factory=list)  # imported but waiting for an editor (screening)
    cleaned: list[str] = field(default_factory=list)  # imported with hostile HTML made inert
    refused: list[Refusal] = field(default_factory=list)

    def refusals_by_reason(self) -> dict[str, list[Refusal]]:
        groups: dict[str, list[Refusal]] = {}
        for refusal in self.refused:
            groups.setdefault(refusal.reason, []).append(refusal)
        return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


class Refused(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def text_to_html(text: str) -> str:
    """Plain text as paragraphs: one per line (or full-width indent, as Chinese news writes them)."""
    lines = re.split(r"\n|\u3000\u3000", clean_text(text))
    return "".join(f"<p>{html.escape(line.strip())}</p>" for line in lines if line.strip())


def parse_date(value: str | int | float | datetime | None) -> datetime | None:
    """An aware datetime, or None when the item has no date. Naive times are the site's time zone.

    Reads RFC 822 (RSS), ISO 8601 / RFC 3339 (Atom, JSON), WordPress' "YYYY-MM-DD HH:MM:SS" and Unix
    seconds. Raises ValueError for anything else, or for a time in the future."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        if not text or _ZERO_DATE_RE.match(text):
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                raise ValueError(text) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + FUTURE_SLACK:
        raise ValueError(f"future: {value}")
    return moment


def parse_mapping(spec: str) -> dict[str, str]:
    """`体育=sports,财经=finance`, or the path of a file with one `category=slug` a line (# comments)."""
    path = Path(spec)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else re.split(r"[,，\n]", spec)
    mapping: dict[str, str] = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        category, sep, slug = line.partition("=")
        if not sep or not category.strip() or not slug.strip():
            raise ValueError(line)
        mapping[category.strip().casefold()] = slug.strip()
    return mapping


class ChannelChooser:
    """Which channel an item goes to: `--channel` for everything; else `--map`; else a channel whose
    name or slug is the category; else `default` when given. Otherwise the item is refused: filing an
    article in a channel nobody chose would put it in front of the wrong readers."""

    def __init__(self, *, mapping: dict[str, str] | None = None, channel: str = "", default: str = "") -> None:
        self.channels = list(Channel.objects.all())
        by_slug = {c.slug.casefold(): c for c in self.channels}
        missing = {s for s in [*(mapping or {}).values(), channel, default] if s and s.casefold() not in by_slug}
        if missing:
            raise ValueError(", ".join(sorted(missing)))
        self.fixed = by_slug[channel.casefold()] if channel else None
        self.default = by_slug[default.casefold()] if default else None
        self.mapping = {cat: by_slug[slug.casefold()] for cat, slug in (mapping or {}).items()}
        for c in self.channels:
            self.mapping.setdefault(c.name.casefold(), c)
            self.mapping.setdefault(c.slug.casefold(), c)

    def choose(self, category: str) -> Channel:
        if self.fixed is not None:
            return self.fixed
        channel = self.mapping.get(category.strip().casefold())
        if channel is None:
            channel = self.default
        if channel is None:
            raise Refused(_("分类没有对应的频道"), category or _("（无分类）"))
        return channel


def handle_for(name: str) -> str:
    """A free handle from the name's pinyin: 张三 → zhang-san, then zhang-san-2, …"""
    base = slugify("-".join(lazy_pinyin(name))).replace("_", "-").strip("-")[:32].strip("-")
    if len(base) < 3 or not HANDLE_RE.match(base) or base in RESERVED_HANDLES:
        base = f"author-{base}".strip("-") if base else "author"
    handle, n = base, 1
    while handle in RESERVED_HANDLES or Account.objects.filter(handle__iexact=handle).exists():
        n += 1
        handle = f"{base}-{n}"
    return handle


def find_account(name: str) -> Account | None:
    return Account.objects.filter(name__iexact=name).first()


def account_name(author: str, default: str) -> str:
    return clean_name(author)[:NAME_LIMIT].strip() or default


def create_account(name: str) -> Account:
    """An account without an owner: an editor may hand it to its writer later."""
    return Account.objects.create(name=name, handle=handle_for(name))


def _one_line(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", clean_text(value)).split())


class Importer:
    """Checks and stores items; one instance per run, its `report` says what happened."""

    def __init__(self, chooser: ChannelChooser, *, bulk: bool = False, default_author: str = DEFAULT_AUTHOR) -> None:
        self.chooser = chooser
        self.bulk = bulk
        self.default_author = account_name(default_author, DEFAULT_AUTHOR)
        self.report = Report()
        self.accounts: dict[str, Account] = {}
        self.touched: set[int] = set()  # accounts whose counts a bulk run recounts at the end

    def add(self, entry: ImportedItem | Refusal | None) -> str:
        """Import one item (a reader's Refusal is recorded); returns the outcome's name."""
        if entry is None:
            self.report.ignored += 1
            return "ignored"
        if isinstance(entry, Refusal):
            self.report.refused.append(entry)
            return "refused"
        try:
            outcome = self._add(entry)
        except Refused as refusal:
            self.report.refused.append(Refusal(entry.location, refusal.reason, refusal.detail))
            return "refused"
        if outcome == "skipped":
            self.report.skipped += 1
        else:
            self.report.imported += 1
        return outcome

    def _add(self, item: ImportedItem) -> str:
        title = _one_line(item.title)
        if not title:
            raise Refused(_("没有标题"))
        if len(title) > TITLE_LIMIT:
            raise Refused(_("标题超过 %(n)s 个字") % {"n": TITLE_LIMIT}, title[:30] + "…")
        try:
            published = parse_date(item.published)
        except (ValueError, OverflowError, OSError) as error:
            raise Refused(_("日期无法识别或在未来"), str(item.published)[:60]) from error
        channel = self.chooser.choose(item.category)
        name = account_name(item.author, self.default_author)
        account = self.accounts.get(name.casefold()) or find_account(name)
        key = import_key(item.key)
        if self._exists(account, title, published, key):
            return "skipped"
        hostile = bool(_HOSTILE_RE.search(item.html))
        with transaction.atomic():
            if account is None:
                account = create_account(name)
            article = self._create(item, account, channel, title)
            if key:
                Article.objects.filter(pk=article.pk).update(import_key=key)
            held = self._publish(article, published)
        self.accounts[name.casefold()] = account
        if hostile:
            self.report.cleaned.append(item.location)
        if held:
            self.report.held.append(item.location)
        return "imported"

    def _exists(self, account: Account | None, title: str, published: datetime | None, key: str) -> bool:
        """Imported before: by the source's own id when it has one, else by account, title and time."""
        if key:
            return Article.objects.filter(import_key=key).exists()
        if account is None:
            return False
        same = Article.objects.filter(account=account, title=title)
        return (same.filter(published_at=published) if published else same).exists()

    def _create(self, item: ImportedItem, account: Account, channel: Channel, title: str) -> Article:
        try:
            article = actions.create_article(
                account=account, channel=channel, title=title, body=item.html, tags=item.tags
            )
        except ValidationError as error:
            raise Refused(_("内容不符合要求"), "; ".join(error.messages)[:200]) from error
        if not article.body_text.strip():
            raise Refused(_("正文为空（清理后）"))
        for label, text in ((_("标题"), article.title), (_("正文"), article.body_text)):
            result = screening.screen(text)
            if result.blocked:
                raise Refused(_("含有禁用词"), f"{label}: {'、'.join(result.terms('block'))}")
        return article

    def _publish(self, article: Article, published: datetime | None) -> bool:
        """Publish at the item's own time; hits of 'review' terms wait for an editor instead."""
        if screening.screen(article.title).held or screening.screen(article.body_text).held:
            actions.submit_for_review(article)
            return True
        if not self.bulk:
            actions.publish(article, at=published)
            return False
        # Bulk: what publish() does, minus the per-article recount, purge and signal (done once at the end).
        article.status = Article.Status.PUBLISHED
        article.published_at = published or timezone.now()
        article.save(update_fields=["status", "published_at", "updated_at"])
        self.touched.add(article.account_id)
        return False

    def finish(self) -> list[str]:
        """After a bulk run: recount the accounts, purge the fronts and rebuild the discovery indexes.
        Returns what was rebuilt."""
        if not self.bulk:
            return []
        if self.touched:
            account_actions.recount(sorted(self.touched))
        transaction.on_commit(lambda: pagecache.purge("fronts"))
        return rebuild.after_bulk_load(lambda _msg: None) if self.report.imported else []
