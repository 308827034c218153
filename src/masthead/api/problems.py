"""Errors as application/problem+json (RFC 9457): a stable `code`, a message in the reader's language.

Views raise `Problem(status, code, detail)`; the handlers in api.core turn Django's and Ninja's
exceptions into the same shape, so a client branches on `code` and shows `detail`.
"""

import json

from django.http import HttpResponse
from ninja import Schema
from pydantic import ConfigDict

CONTENT_TYPE = "application/problem+json"


class ProblemFieldError(Schema):
    field: str
    message: str
    type: str | None = None


class ProblemOut(Schema):
    """The shape of every error answer; declare it for the statuses an operation returns itself
    (`response={200: X, 404: ProblemOut}`); api.core adds the ones every operation may return."""

    model_config = ConfigDict(extra="allow")  # a problem may carry more, e.g. `scope`, `max_bytes`

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[ProblemFieldError] | None = None


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, str(detail)
        self.errors, self.headers, self.extra = errors, headers or {}, extra


def problem_response(problem: Problem) -> HttpResponse:
    body = {
        "type": f"urn:masthead:problem:{problem.code}",
        "title": problem.code.replace("_", " "),
        "status": problem.status,
        "code": problem.code,
        "detail": problem.detail,
        **problem.extra,
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=problem.status, content_type=CONTENT_TYPE + "; charset=utf-8"
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def problem(status: int, code: str, detail: str, **kwargs) -> HttpResponse:
    return problem_response(Problem(status, code, detail, **kwargs))
