"""The search page, /search/?q=…&channel=<slug>&account=<handle>&since=YYYY-MM-DD&until=YYYY-MM-DD&page=N.

Not page-cached (the cache keys only on ?page=, so a query string bypasses it); the cost is the
engine's ranked query, one query for the page's articles and cached channel and name lists.
"""

from datetime import date, datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from masthead.accounts.models import Account
from masthead.channels.queries import active_channels
from masthead.discovery.hot import hot_articles
from masthead.discovery.search import search

# Dates the filters can take: nothing is published outside them, and beyond them the conversion to
# UTC (or the inclusive end's next day) would overflow. The API clamps to the same range.
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 12, 30)


def _date(value: str) -> date | None:
    try:
        day = date.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None
    return min(max(day, EARLIEST), LATEST) if day else None


def _start_of(day: date | None) -> datetime | None:
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    channels = active_channels()
    channel = next((c for c in channels if c.slug == request.GET.get("channel")), None)
    handle = request.GET.get("account", "")
    account = Account.objects.filter(handle=handle).first() if handle else None
    since, until = _date(request.GET.get("since", "")), _date(request.GET.get("until", ""))
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    results = search(
        q,
        channel=channel,
        account=account,
        since=_start_of(since),
        until=_start_of(until + timedelta(days=1)) if until else None,  # inclusive end date
        page=page,
    )
    filtered = bool(channel or account or since or until)
    context = {
        "results": results,
        "search_query": q,
        "channels": channels,
        "channel": channel,
        "account": account,
        "since": since,
        "until": until,
        "filtered": filtered,
        "hot": lambda: hot_articles(10),
    }
    return render(request, "discovery/search.html", context)
