"""Uploaded files in S3-compatible object storage (django-storages), chosen by environment variables.

- MASTHEAD_S3_BUCKET: public media (article images and their renditions, avatars) go to this bucket
  and pages link to them directly, with plain URLs (no signature: a page, and every cache holding it,
  is the same for every reader). The bucket must let anyone read its objects (a bucket policy, a CDN
  in front, or MASTHEAD_S3_ACL=public-read for providers that want per-object ACLs).
- MASTHEAD_S3_PRIVATE_BUCKET: qualification documents (accounts.models.private_storage) go to this
  bucket, which must stay private. The app streams them to editors itself
  (moderation.views.qualification), so they need no public or signed URL. Unset: they stay in the data
  directory (DATA_DIR/private), which then has to be shared by all app servers.

When object storage does not answer, saving raises StorageUnavailable, a ValidationError: every upload
form and API operation already shows those to the user, so an outage is a clear message, not a 500.
Pages keep rendering: URLs are built without asking the storage.
"""

import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import FileSystemStorage, storages
from django.utils.translation import gettext_lazy as _
from storages.backends.s3 import S3Storage

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5  # seconds: an upload fails with a message instead of hanging the worker
READ_TIMEOUT = 30
ATTEMPTS = 3  # botocore's standard retry mode: the first try and two retries
# Media names are never reused for other content (unique names, files never rewritten): cache them long.
PUBLIC_CACHE_CONTROL = "public, max-age=2592000"
# Where each storage alias lives in a backup archive when it is a local folder (ops.backup.FOLDERS).
BACKUP_FOLDERS = {"media": "default", "private": "private"}


class StorageUnavailable(ValidationError):
    """Object storage refused or did not answer a write."""


class _Guarded(S3Storage):
    """An S3 storage with short timeouts whose failed writes become StorageUnavailable."""

    def __init__(self, **options) -> None:
        addressing = options.pop("addressing_style", None)
        options.setdefault(
            "client_config",
            Config(
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                s3={"addressing_style": addressing},
                signature_version="s3v4",
            ),
        )
        options.setdefault("file_overwrite", False)  # two "photo.jpg" in one month are two files
        super().__init__(**options)

    def save(self, name, content, max_length=None) -> str:
        try:
            return super().save(name, content, max_length=max_length)
        except (BotoCoreError, ClientError) as exc:
            log.error("object storage: could not save %s to bucket %s", name, self.bucket_name, exc_info=True)
            raise StorageUnavailable(_("文件存储暂时不可用，上传没有成功，请稍后再试。"), code="storage") from exc


class MediaStorage(_Guarded):
    """Public media: plain URLs on the bucket's address, or on MASTHEAD_S3_PUBLIC_URL (a CDN, a custom domain)."""

    querystring_auth = False

    def __init__(self, *, public_url: str = "", **options) -> None:
        if public_url:
            parts = urlsplit(public_url.rstrip("/"))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ImproperlyConfigured(f"MASTHEAD_S3_PUBLIC_URL={public_url!r}: give an http(s):// address")
            options["url_protocol"] = f"{parts.scheme}:"
            options["custom_domain"] = parts.netloc + parts.path  # a path (a bucket on a shared host) is kept
        options.setdefault("object_parameters", {"CacheControl": PUBLIC_CACHE_CONTROL})
        super().__init__(**options)


class PrivateStorage(_Guarded):
    """Private files: never a public URL (url() signs, should anything ask); no ACL is ever sent."""

    querystring_auth = True
    default_acl = None
    custom_domain = None


def s3_storages(env: Mapping[str, str]) -> dict[str, dict]:
    """STORAGES entries for the MASTHEAD_S3_* variables in `env` (see .env.example and docs/operations.md)."""
    common = {
        "endpoint_url": env.get("MASTHEAD_S3_ENDPOINT_URL") or None,
        "access_key": env.get("MASTHEAD_S3_ACCESS_KEY_ID") or None,
        "secret_key": env.get("MASTHEAD_S3_SECRET_ACCESS_KEY") or None,
        "region_name": env.get("MASTHEAD_S3_REGION") or None,
        # "path" for servers without bucket subdomains (MinIO, a bare IP); "virtual" for OSS/COS; empty: auto.
        "addressing_style": env.get("MASTHEAD_S3_ADDRESSING_STYLE") or None,
    }
    out: dict[str, dict] = {}
    bucket = (env.get("MASTHEAD_S3_BUCKET") or "").strip()
    if bucket:
        options = {
            **common,
            "bucket_name": bucket,
            "location": (env.get("MASTHEAD_S3_PREFIX") or "").strip("/"),
            "public_url": env.get("MASTHEAD_S3_PUBLIC_URL") or "",
            "default_acl": env.get("MASTHEAD_S3_ACL") or None,
        }
        out["default"] = {"BACKEND": "masthead.ops.storage.MediaStorage", "OPTIONS": options}
    if private := (env.get("MASTHEAD_S3_PRIVATE_BUCKET") or "").strip():
        if private == bucket:
            raise ImproperlyConfigured("MASTHEAD_S3_PRIVATE_BUCKET must not be the public MASTHEAD_S3_BUCKET")
        out["private"] = {
            "BACKEND": "masthead.ops.storage.PrivateStorage",
            "OPTIONS": {**common, "bucket_name": private},
        }
    return out


def local_folder(alias: str) -> Path | None:
    """The folder a storage alias writes to, or None when its files are elsewhere (object storage)."""
    storage = storages[alias]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def describe(alias: str) -> str:
    """Where a storage alias keeps its files, for operators' messages ("s3://bucket/prefix", a folder)."""
    storage = storages[alias]
    if isinstance(storage, S3Storage):
        return f"s3://{storage.bucket_name}/{storage.location}".rstrip("/")
    return str(getattr(storage, "location", type(storage).__name__))


def remote_backup_folders() -> dict[str, str]:
    """The backup folders ("media", "private") whose files are not local: name → where they are."""
    return {name: describe(alias) for name, alias in BACKUP_FOLDERS.items() if local_folder(alias) is None}
