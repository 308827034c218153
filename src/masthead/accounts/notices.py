"""Notifications to one user (a report decided, a takedown and its reason, an appeal's outcome)."""

from masthead.accounts.models import Notification


def notify(user, kind: str, text: str, link: str = "") -> Notification | None:
    """Tell `user` something; does nothing for a deleted user (None). Call inside the action's transaction."""
    if user is None:
        return None
    limit = Notification._meta.get_field("text").max_length
    return Notification.objects.create(user=user, kind=kind, text=text[:limit], link=link)
