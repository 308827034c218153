"""Who may do what: readers (any signed-in user), creators (own an account), editors (staff or the
"editors" group). Views use the decorators; actions re-check with the predicates."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from masthead.accounts.models import Account

EDITORS_GROUP = "editors"


def is_editor(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_staff or user.is_superuser or user.groups.filter(name=EDITORS_GROUP).exists()


def creator_account(user) -> Account | None:
    """The creator account the user owns, or None for a plain reader."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.account
    except Account.DoesNotExist:
        return None


def _require(test):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


creator_required = _require(lambda user: creator_account(user) is not None)
editor_required = _require(is_editor)
