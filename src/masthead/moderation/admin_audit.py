"""Every change made through Django's admin (/admin/) goes into the audit log, for every model at once.

How: the admin writes a LogEntry for each addition, change and deletion (who, what, and a change
message such as "已修改 名称 和 等级。"). A receiver turns each one into an AuditEntry, with the change
message as the reason (the admin has no reason field). For before/after, POST requests to the admin
are watched while they run: the first save of an object reads its row as it was (one query), its
values after the save are taken from the instance, and many-to-many sets (groups, tags) are read
before their first change. Only the fields that changed are kept; a password hash never is.

Deleting several objects at once (the "delete selected" action) writes its LogEntries with
bulk_create, which sends no signal: those deletions are recorded when each object is deleted (for the
models registered in the admin, and objects of them deleted along).
Admin code that records a richer entry itself (e.g. SensitiveTermAdmin through screening.py) is not
recorded twice: a target already audited during the request is skipped.
"""

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.urls import NoReverseMatch, reverse

from masthead.moderation.models import AuditEntry

ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}
SECRET_FIELDS = frozenset({"password"})
HIDDEN = "********"
LONG_TEXT = 2000  # longer values (article bodies) are cut: the revision history keeps the full text
IGNORED = frozenset({"moderation.auditentry", "admin.logentry", "sessions.session", "contenttypes.contenttype"})

Key = tuple[str, str]  # (label_lower, pk)


@dataclass
class _AdminRequest:
    before: dict[Key, dict] = field(default_factory=dict)
    after: dict[Key, dict] = field(default_factory=dict)
    m2m_before: dict[Key, dict[str, list]] = field(default_factory=dict)
    audited: set[Key] = field(default_factory=set)
    actor: object = None


_current: ContextVar[_AdminRequest | None] = ContextVar("admin_audit", default=None)


def _key(instance: models.Model) -> Key:
    return instance._meta.label_lower, str(instance.pk)


def _json(value):
    if isinstance(value, FieldFile):
        return value.name or ""
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):
        value = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return value[:LONG_TEXT] + "…"
    return value


def snapshot(instance: models.Model) -> dict:
    """The instance's stored fields as JSON values (foreign keys as ids); auto_now stamps left out."""
    return {
        f.name: _json(f.value_from_object(instance))
        for f in instance._meta.concrete_fields
        if not getattr(f, "auto_now", False)
    }


def _masked(data: dict) -> dict:
    return {k: (HIDDEN if k in SECRET_FIELDS and v else v) for k, v in data.items()}


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only what changed, secrets hidden."""
    changed = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return _masked({k: before.get(k) for k in changed}), _masked({k: after.get(k) for k in changed})


@cache
def _admin_prefix() -> str | None:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return None


def _request_started(sender, environ=None, **kwargs) -> None:
    environ = environ or {}
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    prefix = _admin_prefix()
    watched = environ.get("REQUEST_METHOD") == "POST" and prefix is not None and path.startswith(prefix)
    if watched:
        _watch_deletions()
    _current.set(_AdminRequest() if watched else None)


def _watch_deletions() -> None:
    """Listen to deletions of the models the admin manages, and only those: a post_delete receiver for
    every model would turn Django's fast bulk deletes into one signal per row everywhere."""
    for model in admin.site._registry:
        post_delete.connect(_post_delete, sender=model, dispatch_uid=f"masthead.admin_audit.delete.{model._meta.label}")


def _request_finished(sender, **kwargs) -> None:
    _current.set(None)


def _watched(instance: models.Model) -> _AdminRequest | None:
    state = _current.get()
    if state is None or instance._meta.label_lower in IGNORED or instance.pk is None:
        return None
    return state


def _pre_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or (state := _watched(instance)) is None or _key(instance) in state.before:
        return
    old = type(instance)._base_manager.filter(pk=instance.pk).first()
    state.before[_key(instance)] = snapshot(old) if old is not None else {}


def _post_save(sender, instance, raw=False, **kwargs) -> None:
    if raw or (state := _watched(instance)) is None:
        return
    state.after[_key(instance)] = snapshot(instance)


def _m2m_changed(sender, instance, action, reverse, **kwargs) -> None:
    if reverse or action not in ("pre_add", "pre_remove", "pre_clear") or (state := _watched(instance)) is None:
        return
    for m2m in instance._meta.many_to_many:
        if m2m.remote_field.through is sender:
            sets = state.m2m_before.setdefault(_key(instance), {})
            if m2m.name not in sets:
                sets[m2m.name] = sorted(getattr(instance, m2m.name).values_list("pk", flat=True))


def _m2m_after(instance: models.Model, names) -> dict:
    return {name: sorted(getattr(instance, name).values_list("pk", flat=True)) for name in names}


def _audit_entry_saved(sender, instance: AuditEntry, created: bool, **kwargs) -> None:
    if created and (state := _current.get()) is not None and instance.target_type:
        state.audited.add((instance.target_type, instance.target_id))


def _edited_object(log: LogEntry) -> models.Model | None:
    try:
        return log.get_edited_object()
    except Exception:  # the model is gone, or the object is
        return None


def _log_entry_saved(sender, instance: LogEntry, created: bool, raw=False, **kwargs) -> None:
    """One admin addition, change or deletion → one audit entry, in the same transaction."""
    if not created or raw:
        return
    log, state = instance, _current.get()
    ct = log.content_type
    key: Key = (f"{ct.app_label}.{ct.model}" if ct else "", str(log.object_id or ""))
    if state is not None:
        state.actor = log.user
        if key in state.audited:
            return  # the admin's own code recorded it already, with its own reason
    before: dict = {}
    after: dict = {}
    if log.action_flag == DELETION:
        obj = _edited_object(log)  # the delete view logs before it deletes
        before = _masked(snapshot(obj)) if obj is not None else {}
    elif state is not None:
        if log.action_flag == ADDITION:
            after = _masked(state.after.get(key, {}))
        else:
            before, after = diff(state.before.get(key, {}), state.after.get(key, {}))
        if names := state.m2m_before.get(key):
            obj = _edited_object(log)
            if obj is not None:
                m2m_before, m2m_after = diff(names, _m2m_after(obj, names))
                before, after = {**before, **m2m_before}, {**after, **m2m_after}
    AuditEntry.objects.create(
        actor=log.user,
        actor_name=log.user.get_username(),
        action=ACTIONS.get(log.action_flag, "admin.change"),
        target_type=key[0],
        target_id=key[1],
        target_repr=log.object_repr[:200],
        reason=log.get_change_message(),
        before=before,
        after=after,
    )


def _post_delete(sender, instance, **kwargs) -> None:
    """Deletions whose LogEntry sent no signal (bulk "delete selected"), and registered models deleted
    along with them."""
    if (state := _watched(instance)) is None or _key(instance) in state.audited:
        return
    ct = ContentType.objects.get_for_model(instance, for_concrete_model=False)
    log = (
        LogEntry.objects.filter(content_type=ct, object_id=str(instance.pk), action_flag=DELETION)
        .select_related("user")
        .order_by("-id")
        .first()
    )
    actor = log.user if log is not None else state.actor
    AuditEntry.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "system",
        action=ACTIONS[DELETION],
        target_type=instance._meta.label_lower,
        target_id=str(instance.pk),
        target_repr=str(instance)[:200],
        reason=log.get_change_message() if log is not None else "",
        before=_masked(snapshot(instance)),
    )


def connect() -> None:
    """Called once from ModerationConfig.ready()."""
    uid = "masthead.admin_audit"
    request_started.connect(_request_started, dispatch_uid=f"{uid}.started")
    request_finished.connect(_request_finished, dispatch_uid=f"{uid}.finished")
    pre_save.connect(_pre_save, dispatch_uid=f"{uid}.pre_save")
    post_save.connect(_post_save, dispatch_uid=f"{uid}.post_save")
    m2m_changed.connect(_m2m_changed, dispatch_uid=f"{uid}.m2m")
    post_save.connect(_log_entry_saved, sender=LogEntry, dispatch_uid=f"{uid}.logentry")
    post_save.connect(_audit_entry_saved, sender=AuditEntry, dispatch_uid=f"{uid}.auditentry")
