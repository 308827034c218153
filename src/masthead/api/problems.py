"""Errors as application/problem+json (RFC 9457): a stable `code`, a message in the reader's language.

Views raise `Problem(status, code, detail)`; the handlers in api.core turn Django's and Ninja's
exceptions into the same shape, so a client branches on `code` and shows `detail`.
"""

import json

from django.http import HttpResponse

CONTENT_TYPE = "application/problem+json"


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
