"""Reads of comments that pages share, each in a fixed number of queries however many comments there are.

One page of threads (top-level comments, sorted hot or newest, each with its first few replies) is ONE
query: the page's top-level ids are a LIMIT/OFFSET subquery, and the replies of those threads are
numbered with ROW_NUMBER() per thread so only the first REPLIES_SHOWN + 1 of each come back (the extra
one tells whether to offer "more replies"). A signed-in reader adds one query for what they liked.

Hot order (see docs/comments.md):

    hot = (likes + replies + 1) / (age in hours + 2) ** GRAVITY,   GRAVITY = 1.5

Hacker News' shape, gentler: a comment needs about 2.8× the points to stay level with one that is
twice as old (counting the 2-hour offset). Because every comment under an article ages together, the
ratio between two comments' scores tends to the ratio of their points as the article gets older: while
the discussion is live new comments get a chance at the top, and a day later the order settles
into "most liked". Likes of deleted and removed comments no longer count (their replies still do).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.fields import DateTimeField
from django.db.models.functions import Cast, Greatest, Power, RowNumber
from django.utils import timezone

from masthead.accounts import roles
from masthead.articles.models import Article
from masthead.engagement import comments as actions
from masthead.engagement.models import Comment

Status = Comment.Status
PAGE_SIZE = 20
REPLIES_SHOWN = 3
THREAD_PAGE_SIZE = 50
GRAVITY = 1.5
SORTS = ("hot", "new")
# Shown as themselves or as a placeholder ("该跟帖已删除"), so a thread stays readable.
PUBLIC_STATUSES = (Status.VISIBLE, Status.DELETED, Status.REMOVED)
RELATED = ("user", "user__account", "reply_to", "reply_to__user", "reply_to__user__account")


class AgeHours(Func):
    """Hours from a row's created_at to `now`, as a float (SQLite and PostgreSQL)."""

    output_field = FloatField()

    def __init__(self, now: datetime, **extra) -> None:
        super().__init__(Value(now, output_field=DateTimeField()), F("created_at"), **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 24.0)", arg_joiner=") - julianday(", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s))::double precision / 3600.0)",
            arg_joiner=" - ",
            **extra,
        )


def hot_score(now: datetime):
    """The hot-order expression (module docstring); `now` is fixed so one page sorts consistently."""
    likes = Case(When(status=Status.VISIBLE, then=F("like_count")), default=Value(0), output_field=IntegerField())
    points = Cast(likes + F("reply_count") + 1, FloatField())
    age = Greatest(AgeHours(now), Value(0.0))
    return points / Power(age + Value(2.0), Value(GRAVITY))


@dataclass
class Viewer:
    """Who is looking, and what that lets them see and do under one article."""

    user: object
    is_editor: bool = False
    is_author: bool = False

    @property
    def signed_in(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    @property
    def can_remove(self) -> bool:
        return self.is_editor or self.is_author

    def shown(self) -> Q:
        """Which comments this viewer gets listed: held ones only for their writer and editors."""
        q = Q(status__in=PUBLIC_STATUSES)
        if self.is_editor:
            q |= Q(status=Status.HELD)
        elif self.signed_in:
            q |= Q(status=Status.HELD, user=self.user)
        return q


def viewer_for(user, article: Article) -> Viewer:
    """One query for a signed-in non-staff user (the editors group), none for anonymous readers."""
    if not getattr(user, "is_authenticated", False):
        return Viewer(user)
    return Viewer(user, is_editor=roles.is_editor(user), is_author=article.account.owner_id == user.pk)


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)
    more_replies: bool = False


class _Paging:
    """What the pagination partial asks of a page (Django's Page has the same names)."""

    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


@dataclass
class CommentPage(_Paging):
    article: Article
    sort: str
    number: int
    threads: list[Thread]
    has_next: bool
    viewer: Viewer
    liked: set[int] = field(default_factory=set)


def parse_sort(value: str | None) -> str:
    return value if value in SORTS else "hot"


def parse_page(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), 10_000)


def _top_level(article: Article, viewer: Viewer, sort: str, now: datetime) -> QuerySet[Comment]:
    qs = Comment.objects.filter(article=article, thread__isnull=True).filter(viewer.shown())
    if sort == "hot":
        return qs.annotate(score=hot_score(now)).order_by("-score", "-id")
    return qs.order_by("-created_at", "-id")


def comment_page(
    article: Article, viewer: Viewer, *, sort: str = "hot", number: int = 1, size: int = PAGE_SIZE
) -> CommentPage:
    """One page of threads with their first replies: one query (two for a signed-in reader)."""
    sort, now = parse_sort(sort), timezone.now()
    offset = (number - 1) * size
    ids = _top_level(article, viewer, sort, now).values("id")[offset : offset + size + 1]
    rows = (
        Comment.objects.filter(article=article)
        .filter(viewer.shown())
        .filter(Q(pk__in=ids) | Q(thread_id__in=ids))
        .select_related(*RELATED)
        .annotate(
            rn=Window(RowNumber(), partition_by=[F("thread_id")], order_by=[F("created_at").asc(), F("id").asc()])
        )
        .filter(Q(thread__isnull=True) | Q(rn__lte=REPLIES_SHOWN + 1))
        .order_by()
    )
    if sort == "hot":
        rows = rows.annotate(score=hot_score(now))
    rows = list(rows)
    tops = [c for c in rows if c.thread_id is None]
    if sort == "hot":
        tops.sort(key=lambda c: (c.score, c.pk), reverse=True)
    else:
        tops.sort(key=lambda c: (c.created_at, c.pk), reverse=True)
    has_next = len(tops) > size
    threads = {c.pk: Thread(c) for c in tops[:size]}
    for reply in sorted((c for c in rows if c.thread_id is not None), key=lambda c: (c.created_at, c.pk)):
        thread = threads.get(reply.thread_id)
        if thread is None:
            continue
        if len(thread.replies) < REPLIES_SHOWN:
            thread.replies.append(reply)
        else:
            thread.more_replies = True
    page = CommentPage(article, sort, number, list(threads.values()), has_next, viewer)
    page.liked = mark_liked(viewer.user, rows)
    return page


@dataclass
class ThreadPage(_Paging):
    article: Article
    thread: Thread
    number: int
    has_next: bool
    viewer: Viewer
    liked: set[int] = field(default_factory=set)


def thread_page(head: Comment, viewer: Viewer, *, number: int = 1, size: int = THREAD_PAGE_SIZE) -> ThreadPage:
    """A thread's head and one page of its replies, oldest first: one query (two signed in)."""
    offset = (number - 1) * size
    replies = list(
        Comment.objects.filter(thread=head)
        .filter(viewer.shown())
        .select_related(*RELATED)
        .order_by("created_at", "id")[offset : offset + size + 1]
    )
    page = ThreadPage(head.article, Thread(head, replies[:size]), number, len(replies) > size, viewer)
    page.liked = mark_liked(viewer.user, [head, *replies])
    return page


def mark_liked(user, comments: list[Comment]) -> set[int]:
    """Set `is_liked` on each comment for this user (one query when signed in); returns the liked ids."""
    liked = actions.liked_ids(user, [c.pk for c in comments])
    for c in comments:
        c.is_liked = c.pk in liked
    return liked


def get_head(article: Article, pk: int, viewer: Viewer) -> Comment | None:
    """A top-level comment of the article this viewer may see listed."""
    return (
        Comment.objects.filter(article=article, pk=pk, thread__isnull=True)
        .filter(viewer.shown())
        .select_related(*RELATED)
        .first()
    )


def held_queue() -> QuerySet[Comment]:
    """Held comments, oldest first, for the editors' queue."""
    return Comment.objects.filter(status=Status.HELD).select_related("user", "article").order_by("created_at", "id")


def recent(status: str = "") -> QuerySet[Comment]:
    """Latest comments (optionally of one status), for the editors' removal tool."""
    qs = Comment.objects.select_related("user", "article", "removed_by").order_by("-created_at", "-id")
    return qs.filter(status=status) if status else qs
