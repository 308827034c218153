"""Helpers for the page-cache tests."""

import os
import subprocess
import sys


def purge_in_another_process(*tags: str, **env: str) -> None:
    """What another app server does after committing a change: its own process, the same shared cache
    (`env` adds to its environment, e.g. REDIS_URL)."""
    code = (
        "import django; django.setup()\n"
        "from masthead.web import pagecache\n"
        f"pagecache._purge_now(set({list(tags)!r}))\n"  # purge() minus the wait for its own commit
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "masthead.settings", **env}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
