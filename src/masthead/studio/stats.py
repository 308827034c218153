"""Creators' statistics: the reads behind the dashboard and the CSV exports, each a fixed number of
queries whatever the number of articles or days, plus the server-rendered charts.

Numbers and where they come from:
- views, shares, likes, comments: the article's running totals (Article.*_count);
- unique readers: distinct readers per article per day (engagement.readers), summed over days, so a
  reader who comes back on another day counts again ("按日去重");
- average read completion: sum of reported depths / number of reports (engagement: sampled beacons);
- new followers: accounts.Follow.created_at, per day.
Days are the site's local days (Asia/Shanghai).
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.http import HttpResponse
from django.utils import timezone

from masthead.accounts.models import Account, Follow
from masthead.articles.models import Article
from masthead.engagement.models import ArticleStatDay

DAYS = 30
# Articles that readers have been able to see; drafts and articles waiting for review have no numbers.
SEEN = (Article.Status.PUBLISHED, Article.Status.REMOVED)


def window(days: int = DAYS, today: date | None = None) -> list[date]:
    """The last `days` local days, oldest first, ending today."""
    today = today or timezone.localdate()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def completion(depth_sum: int | None, depth_count: int | None) -> int | None:
    """Average read completion in whole per cent, or None when nobody reported one."""
    if not depth_count:
        return None
    return round((depth_sum or 0) / depth_count)


_DAY_SUMS = {
    "views": Coalesce(Sum("views"), 0),
    "readers": Coalesce(Sum("readers"), 0),
    "shares": Coalesce(Sum("shares"), 0),
    "depth_sum": Coalesce(Sum("depth_sum"), 0),
    "depth_count": Coalesce(Sum("depth_count"), 0),
}


def account_totals(account: Account) -> dict:
    """All-time totals of an account (2 queries)."""
    totals = Article.objects.filter(account=account, status__in=SEEN).aggregate(
        articles=Count("id"),
        views=Coalesce(Sum("view_count"), 0),
        shares=Coalesce(Sum("share_count"), 0),
        likes=Coalesce(Sum("like_count"), 0),
        comments=Coalesce(Sum("comment_count"), 0),
    )
    days = ArticleStatDay.objects.filter(article__account=account).aggregate(**_DAY_SUMS)
    totals["readers"] = days["readers"]
    totals["completion"] = completion(days["depth_sum"], days["depth_count"])
    totals["followers"] = account.follower_count
    return totals


def article_totals(article: Article) -> dict:
    """All-time totals of one article (1 query)."""
    days = ArticleStatDay.objects.filter(article=article).aggregate(**_DAY_SUMS)
    return {
        "views": article.view_count,
        "shares": article.share_count,
        "likes": article.like_count,
        "comments": article.comment_count,
        "readers": days["readers"],
        "completion": completion(days["depth_sum"], days["depth_count"]),
    }


def article_table(account: Account) -> QuerySet:
    """One row (a dict) per article readers have seen, newest first, with its all-time numbers; one
    query per page, whatever the number of articles and days."""
    return (
        Article.objects.filter(account=account, status__in=SEEN)
        .values("id", "title", "status", "published_at", "view_count", "share_count", "like_count", "comment_count")
        .annotate(
            readers=Coalesce(Sum("daily_stats__readers"), 0),
            depth_sum=Coalesce(Sum("daily_stats__depth_sum"), 0),
            depth_count=Coalesce(Sum("daily_stats__depth_count"), 0),
        )
        .order_by("-published_at", "-id")
    )


def with_completion(rows) -> list[dict]:
    return [{**row, "completion": completion(row["depth_sum"], row["depth_count"])} for row in rows]


@dataclass
class Day:
    day: date
    views: int = 0
    readers: int = 0
    shares: int = 0
    depth_sum: int = 0
    depth_count: int = 0
    followers: int = 0

    @property
    def completion(self) -> int | None:
        return completion(self.depth_sum, self.depth_count)


def daily(days: list[date], *, account: Account | None = None, article: Article | None = None) -> list[Day]:
    """Per-day numbers of an account's articles or of one article, one entry per day (1 query)."""
    qs = ArticleStatDay.objects.filter(day__gte=days[0], day__lte=days[-1])
    qs = qs.filter(article=article) if article is not None else qs.filter(article__account=account)
    found = {row.pop("day"): row for row in qs.values("day").annotate(**_DAY_SUMS).order_by()}
    return [Day(day, **found.get(day, {})) for day in days]


def add_followers(series: list[Day], account: Account) -> None:
    """Fill in new followers per local day (1 query)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(series[0].day, time.min), tz)
    end = timezone.make_aware(datetime.combine(series[-1].day + timedelta(days=1), time.min), tz)
    per_day = dict(
        Follow.objects.filter(Q(account=account), created_at__gte=start, created_at__lt=end)
        .annotate(local_day=TruncDate("created_at", tzinfo=tz))
        .values_list("local_day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for entry in series:
        entry.followers = per_day.get(entry.day, 0)


# --- charts -----------------------------------------------------------------------------------


@dataclass
class Bar:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    """A bar chart drawn as inline SVG by studio/stats/chart.html; the numbers are also given as a table."""

    id: str
    title: str
    description: str
    bars: list[Bar]
    top: int  # the value of the top gridline
    width: int = 640
    height: int = 200
    left: int = 44  # room for the value labels
    bottom: int = 24  # room for the date labels

    @property
    def plot_height(self) -> int:
        return self.height - self.bottom - 8

    @property
    def baseline(self) -> int:
        return self.height - self.bottom

    @property
    def total(self) -> int:
        return sum(b.value for b in self.bars)


def _nice_top(value: int) -> int:
    """A round number at least `value` for the top gridline: 1, 2, 5, 10, 20, 50, 100, …"""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= value)


def chart(chart_id: str, title: str, description: str, values: list[tuple[date, int]]) -> Chart:
    top = _nice_top(max((v for _, v in values), default=0))
    c = Chart(chart_id, title, description, [], top)
    slot = (c.width - c.left - 4) / max(len(values), 1)
    for n, (day, value) in enumerate(values):
        h = c.plot_height * value / top
        c.bars.append(
            Bar(
                day,
                value,
                round(c.left + n * slot + slot * 0.15, 2),
                round(c.baseline - h, 2),
                round(slot * 0.7, 2),
                round(h, 2),
            )
        )
    return c


# --- CSV ----------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int:
    """Text that a spreadsheet would run as a formula is prefixed with ' (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
