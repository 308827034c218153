"""The audit log: every editor and admin decision is recorded with who, when, what, before/after and why."""

from django.db import models

from masthead.moderation.models import AuditEntry


def record(
    actor,
    action: str,
    target: models.Model | None = None,
    *,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append an entry; call inside the same transaction as the change it describes."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "get_username", lambda: "system")() if actor else "system",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        reason=reason,
        before=before or {},
        after=after or {},
    )
