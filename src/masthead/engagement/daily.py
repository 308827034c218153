"""Batched writes of the statistics tables (called by counters.flush inside its transaction).

Upserts are written by hand because ON CONFLICT … DO UPDATE with an expression (add to the stored
value, or keep the larger one) is the same on SQLite and PostgreSQL, and adding rather than
overwriting keeps concurrent flushes from different servers right.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from masthead.engagement.backends.base import DayKey, ReaderKey
from masthead.engagement.models import ArticleReader, ArticleStatDay, ArticleStatHour

BATCH = 500
DAY_FIELDS = ("views", "shares", "depth_sum", "depth_count")
# Reader digests of day D are deleted on day D + KEEP_READER_DAYS: yesterday's stay so a flush just
# after midnight still recognises readers it has already counted.
KEEP_READER_DAYS = 2


def _adapt(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _upsert(model, keys: Sequence[str], values: Sequence[str], rows: list[tuple], *, keep_larger: bool = False) -> None:
    """INSERT rows (keys + values); on a key conflict add each value to the stored one, or, with
    keep_larger, keep whichever is larger (for totals that only grow, e.g. distinct readers)."""
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    key_cols = [q(model._meta.get_field(f).column) for f in keys]
    value_cols = [q(model._meta.get_field(f).column) for f in values]
    if keep_larger:
        updates = [
            f"{c} = CASE WHEN excluded.{c} > {table}.{c} THEN excluded.{c} ELSE {table}.{c} END" for c in value_cols
        ]
    else:
        updates = [f"{c} = {table}.{c} + excluded.{c}" for c in value_cols]
    # Columns the statement does not name take their model defaults (0) on insert.
    others = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in keys and f.name not in values and f.has_default()
    ]
    columns = [*key_cols, *value_cols, *(q(f.column) for f in others)]
    defaults = [f.get_default() for f in others]
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([placeholder] * len(batch))} "
                f"ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET {', '.join(updates)}",
                [_adapt(v) for row in batch for v in (*row, *defaults)],
            )


def upsert_hours(rows: list[tuple[int, datetime, int, int]]) -> None:
    """Add (article id, hour, views, shares) to the hourly rows the hot list reads."""
    _upsert(ArticleStatHour, ("article", "hour"), ("views", "shares"), rows)


def add_to_days(days: dict[DayKey, dict[str, int]]) -> None:
    """Add views, shares and read-depth sums/counts to daily rows."""
    rows = [(a, d, *(amounts.get(f, 0) for f in DAY_FIELDS)) for (a, d), amounts in sorted(days.items())]
    _upsert(ArticleStatDay, ("article", "day"), DAY_FIELDS, rows)


def raise_readers(counts: dict[DayKey, int]) -> None:
    """Set each article-day's distinct readers to the new total unless the stored one is larger
    (a flush that counted fewer, e.g. from a buffer that was down, never lowers it)."""
    rows = [(a, d, n) for (a, d), n in sorted(counts.items())]
    _upsert(ArticleStatDay, ("article", "day"), ("readers",), rows, keep_larger=True)


def store_readers(members: Iterable[ReaderKey]) -> dict[DayKey, int]:
    """Store reader digests (a reader already stored for the article-day is ignored) and return the
    distinct readers of every article-day they touch, counted in the table."""
    members = sorted(members)
    ArticleReader.objects.bulk_create(
        [ArticleReader(article_id=a, day=d, reader=r) for a, d, r in members], batch_size=BATCH, ignore_conflicts=True
    )
    touched = {(a, d) for a, d, _ in members}
    counted = (
        ArticleReader.objects.filter(article_id__in={a for a, _ in touched}, day__in={d for _, d in touched})
        .values_list("article_id", "day")
        .annotate(n=Count("id"))
    )
    return {(a, d): n for a, d, n in counted if (a, d) in touched}


def purge_readers(today: date) -> int:
    """Delete reader digests of days that are over and counted (older than yesterday)."""
    deleted, _ = ArticleReader.objects.filter(day__lte=today - timedelta(days=KEEP_READER_DAYS)).delete()
    return deleted


def days_from_hours(article_ids: Iterable[int] | None = None) -> None:
    """Fill daily views and shares from hourly rows written directly (the demo loaders do); safe to
    run again, since a day keeps the larger of its stored and recomputed numbers."""
    qs = ArticleStatHour.objects.all()
    if article_ids is not None:
        qs = qs.filter(article_id__in=list(article_ids))
    views: Counter[DayKey] = Counter()
    shares: Counter[DayKey] = Counter()
    for article_id, hour, v, s in qs.values_list("article_id", "hour", "views", "shares").iterator():
        key = (article_id, timezone.localdate(hour))
        views[key] += v
        shares[key] += s
    rows = [(a, d, views[(a, d)], shares[(a, d)]) for a, d in sorted(views)]
    _upsert(ArticleStatDay, ("article", "day"), ("views", "shares"), rows, keep_larger=True)
