"""Form helpers shared by the site's apps."""

from django import forms
from django.core.exceptions import ValidationError


def add_errors(form: forms.Form, error: ValidationError, rename: dict[str, str | None] | None = None) -> None:
    """Put an action's ValidationError on the form: messages about a field next to it (after `rename`,
    e.g. an action's key that the form shows under another field), the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        name = (rename or {}).get(key, key)
        form.add_error(name if name in form.fields else None, errors)
