"""Geolocation backends for IP属地. Which one is used is configuration:

- MASTHEAD_GEOIP_BACKEND: dotted path of a GeoBackend class (optional, for your own);
- else MASTHEAD_GEOIP_DATABASE: path of a MaxMind-format .mmdb file → maxmind.MaxMindBackend;
- else the offline country-level default, country.CountryBackend.
"""

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from masthead.accounts.geo.base import GeoBackend, Location

__all__ = ["GeoBackend", "Location", "backend", "reset"]

_backend: GeoBackend | None = None
_lock = threading.Lock()


def _create() -> GeoBackend:
    if dotted := getattr(settings, "MASTHEAD_GEOIP_BACKEND", ""):
        return import_string(dotted)()
    if path := getattr(settings, "MASTHEAD_GEOIP_DATABASE", ""):
        from masthead.accounts.geo.maxmind import MaxMindBackend

        try:
            return MaxMindBackend(path)
        except (OSError, ValueError) as exc:
            raise ImproperlyConfigured(f"MASTHEAD_GEOIP_DATABASE: cannot open {path}: {exc}") from exc
    from masthead.accounts.geo.country import CountryBackend

    return CountryBackend()


def backend() -> GeoBackend:
    """The configured backend, created on first use (once per process)."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = _create()
    return _backend


def reset() -> None:
    """Forget the backend (and the lookups cached with it): the next lookup uses the settings as they are."""
    global _backend
    with _lock:
        old, _backend = _backend, None
    if old is not None and hasattr(old, "close"):
        old.close()
    from masthead.accounts import regions

    regions.clear_cache()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting in ("MASTHEAD_GEOIP_BACKEND", "MASTHEAD_GEOIP_DATABASE"):
        reset()
