"""Every operation of the served OpenAPI description, fuzzed by Schemathesis with valid and invalid input.

The description is the one /api/v1/openapi.json serves (the same call builds it; test_core checks they are
equal), loaded at collection, so each operation is its own test. (schemathesis.pytest.from_fixture would
load it inside a test, but fails on pytest 9.2, which renamed Node._nodeid.) Requests go through the WSGI
app in-process, so they run against pytest-django's test database. The caller is an editor who owns a
creator account, with a token holding every scope, so most operations can succeed; valid cases take path
parameters from real rows half the time. Coverage (boundary and invalid values) and fuzzing phases, valid
and invalid input. A 5xx, an undeclared status or content type, a body off its declared schema, invalid
input accepted, or a secured operation that answers without a valid token fails the operation.

Bounded and repeatable: a fixed seed, derandomized generation, no example database, few examples each.
"""

import json
import uuid
from datetime import timedelta

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from ninja.responses import NinjaJSONEncoder
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from masthead.accounts.notices import notify
from masthead.accounts.roles import EDITORS_GROUP
from masthead.api.core import api
from masthead.articles import actions
from masthead.channels.models import Channel
from masthead.engagement import comments
from tests import factories
from tests.api.conftest import token_for

SPEC = "/api/v1/openapi.json"
MAX_EXAMPLES = 40  # fuzzing examples per operation (the coverage phase adds its own boundary cases)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,  # a secured operation that succeeded is probed again without, and with a wrong, token
]


class _Generous(dict):
    """MASTHEAD_RATE_LIMITS with a high limit for every scope: the fuzzer sends hundreds of writes."""

    def get(self, key, default=None):
        return (1_000_000, 60)


def person(prefix: str):
    # No password: hashing one per operation's setup would cost more than its requests.
    return get_user_model().objects.create_user(f"{prefix}-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def world(db):
    """Real rows for path parameters: articles in several states, comments, an image, a notification."""
    editor = person("editor")
    editor.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    own = factories.account(owner=editor)
    other = factories.account(owner=person("creator"))
    reader = person("reader")
    image = factories.image(account=own)
    published = [factories.article(account_=own, cover=image) for _ in range(2)]
    published += [factories.article(account_=other) for _ in range(2)]
    draft = factories.article(account_=own, publish=False)
    removed = factories.article(account_=other)
    actions.remove(removed, reason="测试下架")
    scheduled = factories.article(account_=own, publish=False)
    actions.schedule(scheduled, at=timezone.now() + timedelta(days=1))
    thread = comments.post_comment(reader, published[0], "第一条跟帖", client_token=uuid.uuid4().hex)
    reply = comments.post_comment(editor, published[0], "回复一下", reply_to=thread, client_token=uuid.uuid4().hex)
    mine = comments.post_comment(editor, published[2], "编辑的跟帖", client_token=uuid.uuid4().hex)
    note = notify(editor, "system", "欢迎使用接口")
    articles = [a.pk for a in (*published, draft, removed, scheduled)]
    return {
        "token": token_for(editor),
        "rows": {
            "id": articles,
            "article_id": articles,
            "comment_id": [thread.pk, reply.pk, mine.pk],
            "image_id": [image.pk],
            "notification_id": [note.pk] if note else [],
            "handle": [own.handle, other.handle],
            "slug": list(Channel.objects.values_list("slug", flat=True)[:3]),
            "channel_slug": list(Channel.objects.values_list("slug", flat=True)[:3]),
        },
    }


def _spec() -> dict:
    # The very description /api/v1/openapi.json serves (test_core checks they are equal), built without
    # a request: the schema is loaded at collection time, when the database is not open yet.
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


try:
    SPEC, SPEC_ERROR = _spec(), None
except Exception as exc:  # an operation's declaration is broken: reported by the test below
    SPEC, SPEC_ERROR = {"openapi": "3.1.0", "info": {"title": "broken", "version": "1"}, "paths": {}}, exc

schema = schemathesis.openapi.from_dict(
    SPEC,
    config=schemathesis.Config.from_dict(
        {
            "seed": 20240901,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # The caller's token is sent with every case; bad tokens are test_core's business.
                "with-security-parameters": False,
            },
            "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
            # Schemathesis's default list plus 413: a body too large to read is refused before it is
            # validated, which is a rejection too (the 10 MB cases of test_hostile check its problem).
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
                }
            },
        }
    ),
)
schema.app = get_wsgi_application()
_rows: dict[str, list] = {}  # filled by the `caller` fixture before any case is drawn


@schema.hook
def flatmap_case(context, case):
    # Valid cases hit a real row half the time, so operations reach their success paths, not only their
    # 404s. Invalid ones are left alone: a real row would make them valid.
    params = case.path_parameters or {}
    known = {name: st.sampled_from(_rows[name]) for name in params if _rows.get(name)}
    if not known or case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return st.just(case)

    def real(chosen: dict):
        case.path_parameters.update(chosen)
        return case

    return st.one_of(st.fixed_dictionaries(known).map(real), st.just(case))


@pytest.fixture
def caller(world, settings):
    """The Authorization header of the editor's all-scope token, with the app ready for in-process calls."""
    settings.MASTHEAD_RATE_LIMITS = _Generous()
    _rows.clear()
    _rows.update(world["rows"])
    # Django closes the connection when a request finishes; inside the test transaction that would break
    # it (django.test.Client turns this off the same way).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {world['token']}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    _rows.clear()


def test_the_spec_can_be_built():
    assert SPEC_ERROR is None, f"the OpenAPI description cannot be built: {SPEC_ERROR!r}"


@pytest.mark.skipif(not SPEC["paths"], reason="no operations to test: the spec is empty or cannot be built")
@schema.parametrize()
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the fixture holds for every case
def test_every_operation_conforms_to_the_served_spec(case, caller):
    case.call_and_validate(headers=caller, checks=CHECKS)
