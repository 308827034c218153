"""Request timing and structured logs."""

import json
import logging

import pytest

from masthead.ops.logs import JsonFormatter
from tests import factories


@pytest.mark.django_db
def test_every_answer_says_how_long_it_took_and_requests_can_be_logged_as_json(client, settings, caplog):
    settings.MASTHEAD_LOG_REQUESTS = True
    article = factories.article()
    with caplog.at_level(logging.INFO, logger="masthead.request"):
        first = client.get(article.get_absolute_url())
        second = client.get(article.get_absolute_url())
    assert first["Server-Timing"].startswith("app;dur=") and second["Server-Timing"].startswith("app;dur=")
    records = [r for r in caplog.records if r.name == "masthead.request"]
    assert [(r.status, r.cache, r.user) for r in records] == [(200, "miss", "anonymous"), (200, "hit", "anonymous")]
    line = json.loads(JsonFormatter().format(records[1]))
    assert line["path"] == article.get_absolute_url() and line["level"] == "INFO" and line["ms"] >= 0


@pytest.mark.django_db
def test_only_slow_requests_are_logged_by_default(client, settings, caplog):
    settings.MASTHEAD_LOG_REQUESTS = False
    with caplog.at_level(logging.INFO, logger="masthead.request"):
        client.get("/healthz")
        settings.MASTHEAD_SLOW_REQUEST_MS = 0  # every request is "slow" now
        client.get("/healthz")
    records = [r for r in caplog.records if r.name == "masthead.request"]
    assert len(records) == 1 and records[0].levelname == "WARNING" and records[0].path == "/healthz"
