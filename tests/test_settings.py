"""Configuration comes from the environment, with secure defaults (run in a fresh interpreter)."""

import json
import os
import stat
import subprocess
import sys

PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'debug': settings.DEBUG, 'engine': db['ENGINE'], 'name': str(db['NAME']),"
    " 'cache': settings.CACHES['default']['BACKEND'], 'counters': settings.MASTHEAD_COUNTERS,"
    " 'hosts': settings.ALLOWED_HOSTS, 'key': settings.SECRET_KEY, 'media': str(settings.MEDIA_ROOT)}))"
)
CLEARED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MASTHEAD_DEBUG", "ALLOWED_HOSTS", "MASTHEAD_COUNTERS")


def _settings(tmp_path, **env) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base.update(DJANGO_SETTINGS_MODULE="masthead.settings", MASTHEAD_DATA_DIR=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=base, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_embedded_defaults_keep_everything_in_the_data_directory(tmp_path):
    first = _settings(tmp_path)
    assert first["debug"] is False
    assert first["engine"] == "django.db.backends.sqlite3" and first["name"].startswith(str(tmp_path))
    assert first["media"].startswith(str(tmp_path))
    assert first["cache"].endswith("FileBasedCache") and first["counters"] == "memory"
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first["key"] and len(first["key"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _settings(tmp_path)["key"] == first["key"]  # kept across runs


def test_environment_moves_database_cache_and_counters(tmp_path):
    moved = _settings(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.example:5432/news",
        REDIS_URL="redis://cache.example:6379/0",
        SECRET_KEY="k" * 60,
        ALLOWED_HOSTS="news.example.org, www.news.example.org",
        MASTHEAD_DEBUG="1",
    )
    assert moved["engine"] == "django.db.backends.postgresql" and moved["name"] == "news"
    assert moved["cache"].endswith("RedisCache") and moved["counters"] == "redis"
    assert moved["key"] == "k" * 60 and not (tmp_path / "secret_key").exists()
    assert moved["hosts"] == ["news.example.org", "www.news.example.org"]
    assert moved["debug"] is True
