"""The API reference at /api/v1/docs/: rendered on the server from the OpenAPI description.

No Swagger UI: it needs a CDN and JavaScript, and this page must work offline and without scripts.
The spec only changes with the code, so it is turned into the page's structure once per process;
anonymous readers then get the page from the page cache.

Which scope an operation needs is read from `openapi_extra={"x-scope": "comment"}` when the router
declares it, otherwise from the scopes its view passes to `require(request, "comment")` or to a helper
of its module that calls require() (see docs/api.md).
"""

import functools
import inspect
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from masthead.accounts import ratelimit
from masthead.api.models import Scope
from masthead.channels.queries import active_channels
from masthead.web.pagecache import cache_page_for_readers

METHODS = ("get", "post", "put", "patch", "delete")
SCOPE_KEY = "x-scope"
REF_PREFIX = "#/components/schemas/"
# Calls that are given the request: require(request, "comment"), _creator(request, "read", "drafts").
_CALL = re.compile(r"\b(\w+)\(\s*request\b([^)]*)\)")
_LITERAL = re.compile(r"[\"'](\w+)[\"']")
_SCOPE_CONST = re.compile(r"\bScope\.([A-Z]+)\b")
# Problem(409, "version_conflict", _("…")) and problem(…) calls in the API's own modules.
_PROBLEM = re.compile(r"\b[Pp]roblem\(\s*(\d{3}),\s*\"(\w+)\",\s*(?:(?:[\w.()]+ or )?_\(\s*\"((?:[^\"\\]|\\.)*)\")?")
# Codes whose message is not written at the call (the middleware passes it through a helper).
MESSAGES = {"token_invalid": gettext_lazy("访问令牌无效或已被撤销。")}
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# The limits a JSON schema may put on a value, in the order they are shown.
_BOUNDS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "min length {}"),
    ("maxLength", "max length {}"),
    ("minItems", "min items {}"),
    ("maxItems", "max items {}"),
    ("pattern", "pattern {}"),
)


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref", "")
    return ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else None


def type_html(schema: dict) -> SafeString:
    """A compact type: `string (date-time) | null`, `ArticleSummary[]` with a link to the shape."""
    if name := _ref_name(schema):
        return format_html('<a href="#schema-{}">{}</a>', name, name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return mark_safe(" | ".join(type_html(s) for s in schema[key]))
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_html(schema["allOf"][0])
    if "const" in schema:
        return format_html("<code>{}</code>", repr(schema["const"]).replace("'", '"'))
    if "enum" in schema:
        return format_html_join(" | ", "<code>{}</code>", ((repr(v).replace("'", '"'),) for v in schema["enum"]))
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return mark_safe(" | ".join(type_html({**schema, "type": k}) for k in kind))
    if kind == "array":
        items = schema.get("items", {})
        inner = type_html(items)
        return format_html("({})[]", inner) if ("anyOf" in items or "oneOf" in items) else format_html("{}[]", inner)
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return format_html("{{string: {}}}", type_html(schema["additionalProperties"]))
    if fmt := schema.get("format"):
        return format_html("{} ({})", kind, fmt)
    return format_html("{}", kind)


def bounds(schema: dict) -> str:
    """The limits on a value (ge/le, lengths, pattern, default), looking inside `X | null`."""
    parts = [template.format(schema[key]) for key, template in _BOUNDS if key in schema]
    for branch in schema.get("anyOf", []):
        parts += [template.format(branch[key]) for key, template in _BOUNDS if key in branch]
    if "default" in schema and schema["default"] is not None:
        default = schema["default"]
        parts.append(f"default {str(default).lower() if isinstance(default, bool) else default}")
    return ", ".join(parts)


def fields(schema: dict, schemas: dict, prefix: str = "", depth: int = 0) -> list[dict]:
    """The rows of an object shape; inline sub-objects are flattened as a.b (named shapes are links)."""
    if name := _ref_name(schema):
        schema = schemas.get(name, {})
    required = set(schema.get("required", ()))
    rows = []
    for key, prop in schema.get("properties", {}).items():
        rows.append(
            {
                "name": prefix + key,
                "type": type_html(prop),
                "required": key in required,
                "bounds": bounds(prop),
                "description": prop.get("description", ""),
            }
        )
        if prop.get("type") == "object" and "properties" in prop and depth < 3:
            rows += fields(prop, schemas, f"{prefix}{key}.", depth + 1)
    return rows


def _literal_scopes(args: str) -> list[str]:
    words = [w.lower() for w in _LITERAL.findall(args)] + [w.lower() for w in _SCOPE_CONST.findall(args)]
    return [w for w in words if w in Scope.values]


def _scopes_in(func, module, depth: int = 0) -> list[str]:
    """The scopes `func` asks for: `require(request, "comment")`, or a helper of its module that calls
    require() given `request` and the scopes (`_creator(request, "drafts")`) or asking for them itself."""
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return []
    found = []
    for name, args in _CALL.findall(source):
        if name == "require":
            found += _literal_scopes(args)
            continue
        helper = getattr(module, name, None)
        own = inspect.isfunction(helper) and helper is not func and helper.__module__ == module.__name__
        if depth < 2 and own and "require(" in inspect.getsource(helper):
            found += _literal_scopes(args) or _scopes_in(helper, module, depth + 1)
    return list(dict.fromkeys(found))


def view_scopes(api) -> dict[str, list[str]]:
    """operationId → the scopes its view requires, for operations without an explicit x-scope."""
    found = {}
    for _prefix, router in api._routers:  # every mounted router, nested ones included
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                op_id = operation.operation_id or api.get_openapi_operation_id(operation)
                module = inspect.getmodule(operation.view_func)
                found[op_id] = _scopes_in(operation.view_func, module)
    return found


def problem_codes() -> list[dict]:
    """Every stable error code the API's own modules raise, with its status and (lazy) message."""
    from masthead.api.middleware import PLAIN_ERRORS

    seen = {code: {"status": status, "code": code, "message": msg} for status, (code, msg) in PLAIN_ERRORS.items()}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for status, code, msgid in _PROBLEM.findall(path.read_text(encoding="utf-8")):
            # gettext_lazy: looked up in the reader's language when the page is rendered.
            message = gettext_lazy(msgid.replace('\\"', '"')) if msgid else MESSAGES.get(code, "")
            seen.setdefault(code, {"status": int(status), "code": code, "message": message})
    return sorted(seen.values(), key=lambda c: (c["status"], c["code"]))


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def reference(spec: dict, view_scopes: dict[str, list[str]]) -> dict:
    """The page's structure: operations grouped by tag, and every named shape they use."""
    schemas = spec.get("components", {}).get("schemas", {})
    groups: dict[str, list] = {}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            tag = (op.get("tags") or [""])[0]
            op_id = op.get("operationId", f"{method}-{path}")
            body = op.get("requestBody", {})
            groups.setdefault(tag, []).append(
                {
                    "id": op_id,
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary") or "",
                    "description": op.get("description") or "",
                    "deprecated": op.get("deprecated", False),
                    "auth": bool(op.get("security")),
                    "scopes": _listed(op.get(SCOPE_KEY)) or view_scopes.get(op_id, []),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p.get("in", ""),
                            "type": type_html(p.get("schema", {})),
                            "required": p.get("required", False),
                            "bounds": bounds(p.get("schema", {})),
                            "description": p.get("description") or p.get("schema", {}).get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": [
                        {
                            "media": media,
                            "type": type_html(c.get("schema", {})),
                            "fields": fields(c.get("schema", {}), schemas),
                        }
                        for media, c in body.get("content", {}).items()
                    ],
                    "body_required": body.get("required", False),
                    "responses": [
                        {
                            "status": status,
                            "description": r.get("description", ""),
                            "content": [
                                (media, type_html(c.get("schema", {}))) for media, c in r.get("content", {}).items()
                            ],
                        }
                        for status, r in op.get("responses", {}).items()
                    ],
                }
            )
    return {
        "title": spec.get("info", {}).get("title", ""),
        "version": spec.get("info", {}).get("version", ""),
        "description": spec.get("info", {}).get("description", ""),
        "groups": [{"tag": tag, "slug": f"tag-{i}", "operations": ops} for i, (tag, ops) in enumerate(groups.items())],
        "schemas": [
            {"name": name, "description": s.get("description", ""), "type": type_html(s), "fields": fields(s, schemas)}
            for name, s in sorted(schemas.items())
        ],
        "operation_count": sum(len(ops) for ops in groups.values()),
    }


@functools.cache
def current_reference() -> dict:
    """The reference for the running code (built on first use; the spec cannot change without a restart)."""
    from masthead.api.core import api

    return {**reference(api.get_openapi_schema(), view_scopes(api)), "problems": problem_codes()}


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    ref = current_reference()
    problems = [{**p, "message": _PLACEHOLDER.sub("…", str(p["message"]))} for p in ref["problems"]]
    context = {
        "channels": active_channels,
        "ref": ref,
        "problems": problems,
        "scopes": Scope.choices,
        "base": request.build_absolute_uri("/api/v1"),
        "token_rate": ratelimit.configured("api-token", *settings.MASTHEAD_API_TOKEN_RATE),
        "ip_rate": ratelimit.configured("api-ip", *settings.MASTHEAD_API_IP_RATE),
    }
    response = render(request, "api/docs.html", context)
    return cache_page_for_readers(response, ["api-docs"])
