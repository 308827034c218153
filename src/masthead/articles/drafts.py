"""Drafts: saving with a version check, revision history, restore and diff.

Every save names the version it was based on. If the article moved on since (another tab or
device saved), the save is refused with `DraftConflict` instead of silently overwriting; the
creator then chooses to reload theirs or to keep this one (``force=True``). Each accepted save bumps
`Article.version` and writes a `Revision`; autosaves by one person within the same minute are
collapsed into one row so the history stays readable.

A published article is not changed by saves: they go to its *working copy* (the newest revision),
and readers see the changes only when the creator applies them with `publish_changes` (更新).
"""

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from masthead.articles import actions, workflow
from masthead.articles.body import plain_text, render_body
from masthead.articles.models import Article, Revision

Kind = Revision.Kind
Status = Article.Status
TEXT_FIELDS = ("title", "summary", "body_html")
# Kinds that leave a change the readers do not see yet, when they are the newest row of a published article.
_WORKING_KINDS = {Kind.AUTOSAVE, Kind.SAVE, Kind.RESTORE}


class DraftConflict(Exception):
    """The draft was saved elsewhere after the version this save was based on."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"draft is at version {current_version}")
        self.current_version = current_version


@dataclass(frozen=True)
class Text:
    title: str
    summary: str
    body_html: str


def auto_summary(article: Article) -> bool:
    """Whether the article's summary is the automatic one (the body's opening), not written by the author."""
    return article.summary == " ".join(article.body_text.split())[: actions.SUMMARY_LENGTH]


def _latest(article: Article) -> Revision | None:
    return article.revisions.order_by("-id").first()


def pending_changes(article: Article, latest: Revision | None = None) -> Revision | None:
    """For a published article: the saved revision with changes readers do not see yet, if any."""
    if article.status != Status.PUBLISHED:
        return None
    latest = latest if latest is not None else _latest(article)
    if latest and latest.version == article.version and latest.kind in _WORKING_KINDS:
        return latest
    return None


def working_text(article: Article) -> Text:
    """The text the editor opens: the working copy of a published article, else the article itself."""
    pending = pending_changes(article)
    if pending is not None:
        return Text(pending.title, pending.summary, pending.body_html)
    return Text(article.title, "" if auto_summary(article) else article.summary, article.body_html)


def _lock_version(article: Article) -> int:
    row = Article.objects.select_for_update().values("version", "status").get(pk=article.pk)
    article.status = row["status"]
    return row["version"]


def _differs(article: Article, text: Text, body: str | None, tags, fields: dict) -> bool:
    """Whether saving would change anything (a repeated request changes nothing and is no conflict)."""
    current = working_text(article)
    if body is not None and render_body(body, account_id=article.account_id).html != current.body_html:
        return True
    if text.title != current.title or ("summary" in fields and text.summary != current.summary):
        return True
    if article.status == Status.PUBLISHED:
        return False  # other fields only change with 更新
    return bool(changed_fields(article, fields, tags))


def changed_fields(article: Article, fields: dict, tags=None) -> list[str]:
    """Which of the article's own fields (not its text) and whether its tags ("tags") these values change.
    Saving a published article leaves them as they are: they change with 更新 (publish_changes)."""
    changed = [
        name
        for name, value in fields.items()
        if name not in ("title", "summary")
        and getattr(value, "pk", value) != getattr(getattr(article, name), "pk", getattr(article, name))
    ]
    if tags is not None:
        wanted = sorted(t.casefold() for t in actions.tag_names(tags))
        if wanted != sorted(t.name.casefold() for t in article.tags.all()):
            changed.append("tags")
    return changed


def _write_revision(article: Article, by, kind: str, text: Text) -> Revision:
    now = timezone.now()
    latest = _latest(article)
    if (
        kind == Kind.AUTOSAVE
        and latest is not None
        and latest.kind == Kind.AUTOSAVE
        and latest.author_id == getattr(by, "pk", None)
        and timezone.localtime(latest.created_at).replace(second=0, microsecond=0)
        == timezone.localtime(now).replace(second=0, microsecond=0)
    ):
        Revision.objects.filter(pk=latest.pk).update(
            version=article.version, title=text.title, summary=text.summary, body_html=text.body_html, created_at=now
        )
        latest.refresh_from_db()
        return latest
    return Revision.objects.create(
        article=article, version=article.version, kind=kind, author=by if getattr(by, "pk", None) else None,
        title=text.title, summary=text.summary, body_html=text.body_html,
    )  # fmt: skip


def _bump(article: Article) -> None:
    article.version += 1
    Article.objects.filter(pk=article.pk).update(version=article.version)


@transaction.atomic
def save_draft(
    article: Article,
    by,
    base_version: int,
    *,
    kind: str = Kind.AUTOSAVE,
    force: bool = False,
    body: str | None = None,
    tags: Any = None,
    **fields,
) -> Article:
    """Save the creator's edits made on top of `base_version`.

    Raises DraftConflict when someone saved in between (unless `force`: the creator chose to keep
    this version), and ValidationError for bad fields. A save that changes nothing is a no-op, so a
    double-submitted form or a retried request neither conflicts nor adds a revision.
    """
    article.version = _lock_version(article)
    if article.status == Status.REMOVED:
        raise ValidationError(_("已下架的文章不能编辑。"))
    fields = actions.clean_fields(article.account_id, fields)
    current = working_text(article)
    text = Text(fields.get("title", current.title), fields.get("summary", current.summary), current.body_html)
    if not _differs(article, text, body, tags, fields) and kind != Kind.RESTORE:
        return article
    if base_version != article.version and not force:
        raise DraftConflict(article.version)
    if article.status == Status.PUBLISHED:
        # Readers keep the published text; the change waits in the working copy until 更新.
        if body is not None:
            text = Text(text.title, text.summary, render_body(body, account_id=article.account_id).html)
    else:
        actions.update_article(article, body=body, tags=tags, **fields)
        summary = "" if auto_summary(article) else article.summary
        text = Text(article.title, summary, article.body_html)
    _bump(article)
    _write_revision(article, by, kind, text)
    return article


def publish_changes(article: Article, by, base_version: int, *, body: str | None = None, tags: Any = None, **fields):
    """更新: put the edits of a published article in front of readers.

    The edits are saved to the working copy first (kept whatever happens next); the article must
    then pass the publishing checks. A trusted creator's change goes live and an editor looks at it
    afterwards (needs_review); a new creator's change waits for an editor, as their first publication
    did, and the article leaves the site until it is approved.
    """
    save_draft(article, by, base_version, kind=Kind.SAVE, body=body, tags=tags, **fields)
    with transaction.atomic():
        article.version = _lock_version(article)
        if article.status != Status.PUBLISHED:
            raise ValidationError(_("只有已发布的文章可以更新。"))
        text = working_text(article)
        fields = {**fields, "title": text.title, "summary": text.summary}
        actions.update_article(article, body=text.body_html, tags=tags, **fields)
        workflow.check_publishable(article)  # on failure this block rolls back; the working copy stays
        if workflow.is_trusted(article.account):
            article.needs_review = True
            article.save(update_fields=["needs_review"])
        else:
            actions.submit_for_review(article)
        _bump(article)
        _write_revision(article, by, Kind.PUBLISH, Text(article.title, text.summary, article.body_html))
    return article


def mark(article: Article, by, kind: str) -> Revision:
    """Note a submit or publish in the history (the text as it went out)."""
    summary = "" if auto_summary(article) else article.summary
    return _write_revision(article, by, kind, Text(article.title, summary, article.body_html))


@transaction.atomic
def restore_revision(article: Article, revision: Revision, *, by) -> Article:
    """Make an old revision's text the newest version again (itself a new revision, kind restore)."""
    if revision.article_id != article.pk:
        raise ValueError("revision of another article")
    article.version = _lock_version(article)
    return save_draft(
        article, by, article.version, kind=Kind.RESTORE, body=revision.body_html,
        title=revision.title, summary=revision.summary,
    )  # fmt: skip


# Diff ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    op: str  # equal, insert, delete, replace
    html: SafeString


def _inline(old: str, new: str) -> SafeString:
    """Character-level changes inside one paragraph (Chinese has no spaces to split words on)."""
    out = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(old[a1:a2]))
            continue
        if a2 > a1:
            out.append(f"<del>{escape(old[a1:a2])}</del>")
        if b2 > b1:
            out.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return mark_safe("".join(out))  # every piece of text above is escaped


def diff_paragraphs(old: str, new: str) -> list[DiffRow]:
    """Paragraph-by-paragraph changes from plain text `old` to `new` (one paragraph per line)."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [DiffRow("equal", escape(p)) for p in a[a1:a2]]
            continue
        olds, news = a[a1:a2], b[b1:b2]
        paired = min(len(olds), len(news)) if op == "replace" else 0
        rows += [DiffRow("replace", _inline(o, n)) for o, n in zip(olds[:paired], news[:paired], strict=True)]
        rows += [DiffRow("delete", mark_safe(f"<del>{escape(p)}</del>")) for p in olds[paired:]]
        rows += [DiffRow("insert", mark_safe(f"<ins>{escape(p)}</ins>")) for p in news[paired:]]
    return rows


def diff_texts(old: Text | Revision, new: Text | Revision) -> dict[str, list[DiffRow]]:
    """What changed between two texts: title, summary and body, each as rows."""
    return {
        "title": diff_paragraphs(old.title, new.title),
        "summary": diff_paragraphs(old.summary, new.summary),
        "body": diff_paragraphs(plain_text(old.body_html), plain_text(new.body_html)),
    }


def saved_at(revision: Revision | None, article: Article) -> datetime:
    return revision.created_at if revision is not None else article.updated_at
