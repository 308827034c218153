"""Applications to join (申请入驻): apply, and the editor's decision (approve or reject), audited.

Every rule lives here so the form, the views, the admin and tests all go through the same checks.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from masthead.accounts import avatars, fields
from masthead.accounts.models import Account, Application, Badge
from masthead.accounts.roles import creator_account, is_editor
from masthead.articles.body import clean_text
from masthead.moderation import audit, screening

# Words a creator's name may not contain, because they suggest the platform, its staff or an official
# body speaks. Compared after normalisation (see name_key), so spacing, full-width letters, case and
# punctuation between the characters do not get around the list. The site's own name is added at run time.
IMPERSONATION_WORDS: tuple[str, ...] = (
    "官方", "官微", "官博", "官号", "官网", "官媒",
    "客服", "管理员", "管理員", "平台", "认证", "認證", "审核组",
    "政府", "公安", "警方", "法院", "检察院", "檢察院", "纪委", "國務院", "国务院", "外交部", "网信",
    "新华", "新華", "人民日报", "人民日報", "央视", "央視", "中央电视台", "党中央",
    "masthead", "official", "administrator", "moderator",
)  # fmt: skip

# Handles that are paths of the site or would read as the platform's own.
RESERVED_HANDLES: frozenset[str] = frozenset(
    {
        "admin", "administrator", "api", "static", "media", "studio", "join", "review", "login", "logout",
        "signup", "register", "password", "account", "accounts", "profile", "settings", "u", "a", "c",
        "feed", "feeds", "rss", "atom", "sitemap", "robots", "search", "help", "about", "support", "staff",
        "editor", "editors", "official", "system", "root", "masthead", "www", "mail", "news", "null", "none",
    }
)  # fmt: skip
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{2,39}$")
NAME_MIN = 2
INTRO_MIN = 10

User = get_user_model()


def name_key(value: str) -> str:
    """A name reduced to what a reader sees: NFKC (full-width → ASCII), case-folded, without spaces,
    punctuation, symbols and invisible characters ("官 方", "官·方", "ＯＦＦＩＣＩＡＬ" → "官方", "official")."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def _site_words() -> list[str]:
    site = name_key(settings.SITE_NAME)
    return [site] if len(site) >= 2 else []


def impersonates(name: str) -> bool:
    """Whether a name contains a word that suggests the platform or an official body."""
    key = name_key(name)
    return any(name_key(word) in key for word in (*IMPERSONATION_WORDS, *_site_words()))


def clean_name(value: str) -> str:
    """The name as stored: NFKC-normalised, one space between words, no control characters."""
    return " ".join(unicodedata.normalize("NFKC", clean_text(value)).split())


@dataclass
class ApplicationData:
    """What an applicant fills in. Uploads are Django UploadedFiles (the form's or a test's)."""

    name: str
    handle: str
    avatar: UploadedFile | None
    field: str
    intro: str
    slogan: str = ""
    credential_name: str = ""
    credential_expires_on: date | None = None
    qualification: UploadedFile | None = None


def _taken_name(name: str, user) -> bool:
    pending = Application.objects.filter(status=Application.Status.PENDING, name__iexact=name).exclude(user=user)
    return Account.objects.filter(name__iexact=name).exists() or pending.exists()


def _taken_handle(handle: str, user) -> bool:
    pending = Application.objects.filter(status=Application.Status.PENDING, handle__iexact=handle).exclude(user=user)
    return Account.objects.filter(handle__iexact=handle).exists() or pending.exists()


def check_name(name: str, user=None) -> str:
    name = clean_name(name)
    limit = Application._meta.get_field("name").max_length
    if len(name_key(name)) < NAME_MIN or len(name) > limit:
        message = _("号名称需要 %(min)s 到 %(max)s 个字。") % {"min": NAME_MIN, "max": limit}
        raise ValidationError(message, code="length")
    if impersonates(name):
        raise ValidationError(_("号名称不能含有“官方”、平台或政府机构等容易让读者误会的字样。"), code="impersonation")
    if _taken_name(name, user):
        raise ValidationError(_("这个号名称已被使用，请换一个。"), code="taken")
    screening.check(name, _("号名称"))  # 'block' terms are refused; 'review' ones an editor sees anyway
    return name


def check_rename(name: str, account: Account) -> str:
    """An editor's or admin's new name for an existing account: the length and uniqueness rules and
    the sensitive-word list's 'block' terms apply; words that suggest an official body do not (editors
    name the platform's own accounts), and 'review' terms pass (an editor is making the change)."""
    name = clean_name(name)
    limit = Account._meta.get_field("name").max_length
    if len(name_key(name)) < NAME_MIN or len(name) > limit:
        raise ValidationError(
            _("号名称需要 %(min)s 到 %(max)s 个字。") % {"min": NAME_MIN, "max": limit}, code="length"
        )
    if Account.objects.filter(name__iexact=name).exclude(pk=account.pk).exists():
        raise ValidationError(_("这个号名称已被使用，请换一个。"), code="taken")
    screening.check(name, _("号名称"))
    return name


@dataclass(frozen=True)
class Flagged:
    """A field of an application that hits the sensitive-word list, for the reviewer."""

    label: str
    highlighted: SafeString  # the text, escaped, each match in <mark>
    terms: list[str]
    blocked: bool  # a 'block' term (added to the list after the application was made)


def flagged_fields(application: Application) -> list[Flagged]:
    """The name, slogan and introduction checked against the current list; only those with a match."""
    found = []
    for label, text in (
        (_("号名称"), application.name),
        (_("签名"), application.slogan),
        (_("简介"), application.intro),
    ):
        result = screening.screen(text)
        if result.matches:
            found.append(Flagged(label, screening.highlight(text, result), result.terms(), result.blocked))
    return found


def check_handle(handle: str, user=None) -> str:
    handle = unicodedata.normalize("NFKC", handle).strip().lower()
    if not HANDLE_RE.match(handle):
        raise ValidationError(
            _("账号标识由 3 到 40 个小写字母、数字、连字符或下划线组成，以字母或数字开头。"), code="format"
        )
    if handle in RESERVED_HANDLES or any(name_key(w) in name_key(handle) for w in ("official", "masthead")):
        raise ValidationError(_("这个账号标识是保留的，请换一个。"), code="reserved")
    if _taken_handle(handle, user):
        raise ValidationError(_("这个账号标识已被使用，请换一个。"), code="taken")
    return handle


def _text(value: str, name: str, label: str, *, required: bool = False, minimum: int = 0, screen: bool = False) -> str:
    value = clean_text(value).strip()
    limit = Application._meta.get_field(name).max_length
    if required and not value:
        raise ValidationError(_("请填写%(label)s。") % {"label": label}, code="required")
    if value and len(value) < minimum:
        raise ValidationError(_("%(label)s至少 %(min)s 个字。") % {"label": label, "min": minimum}, code="short")
    if len(value) > limit:
        raise ValidationError(_("%(label)s最多 %(max)s 个字。") % {"label": label, "max": limit}, code="long")
    if screen:  # shown to readers on the creator page: 'block' terms refused, 'review' ones the editor sees
        screening.check(value, label)
    return value


@dataclass
class _Checked:
    values: dict
    avatar: bytes
    document: avatars.Document | None


def _check(data: ApplicationData, user) -> _Checked:
    """Every field checked at once, so the applicant sees all problems in one go."""
    errors: dict[str, list[ValidationError]] = {}
    values: dict = {}

    def run(key: str, check):
        try:
            return check()
        except ValidationError as exc:
            errors.setdefault(key, []).append(exc)
            return None

    values["name"] = run("name", lambda: check_name(data.name, user))
    values["handle"] = run("handle", lambda: check_handle(data.handle, user))
    values["slogan"] = run("slogan", lambda: _text(data.slogan, "slogan", _("签名"), screen=True))
    values["intro"] = run(
        "intro", lambda: _text(data.intro, "intro", _("简介"), required=True, minimum=INTRO_MIN, screen=True)
    )
    if data.field not in fields.BY_SLUG:
        errors["field"] = [ValidationError(_("请选择领域。"), code="field")]
    values["field"] = data.field
    avatar = None
    if data.avatar is None:
        errors["avatar"] = [ValidationError(_("请上传头像。"), code="required")]
    else:
        avatar = run("avatar", lambda: avatars.prepare_avatar(avatars.read_limited(data.avatar, _("头像"))))
    document = None
    values["credential_name"], values["credential_expires_on"] = "", None
    if fields.is_regulated(data.field):
        # Finance, health, law and current affairs: only with a qualification an editor can check.
        values["credential_name"] = run(
            "credential_name", lambda: _text(data.credential_name, "credential_name", _("资质名称"), required=True)
        )
        if data.credential_expires_on is None:
            errors["credential_expires_on"] = [ValidationError(_("请填写资质有效期。"), code="required")]
        elif data.credential_expires_on <= timezone.localdate():
            errors["credential_expires_on"] = [ValidationError(_("资质已过期，请先续期。"), code="expired")]
        values["credential_expires_on"] = data.credential_expires_on
        if data.qualification is None:
            errors["qualification"] = [ValidationError(_("该领域需要上传资质证明。"), code="required")]
        else:
            document = run(
                "qualification",
                lambda: avatars.prepare_document(avatars.read_limited(data.qualification, _("资质证明"))),
            )
    if errors:
        raise ValidationError(errors)
    return _Checked(values, avatar, document)


def _check_applicant(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    if creator_account(user) is not None:
        raise ValidationError(_("你已经拥有创作者账号，不需要再申请。"), code="creator")


def pending_application(user) -> Application | None:
    return Application.objects.filter(user=user, status=Application.Status.PENDING).first()


def _delete_files(*files) -> None:
    for file in files:
        if file and file.name:
            file.storage.delete(file.name)


def apply(user, data: ApplicationData) -> Application:
    """Submit an application to join. A user has at most one pending application: submitting again
    while one is pending (a double click, a second tab) returns that one instead of a second."""
    _check_applicant(user)
    if existing := pending_application(user):
        return existing
    checked = _check(data, user)
    application = Application(user=user, **checked.values)
    try:
        with transaction.atomic():
            # Two submits of one user run one after the other from here (SQLite serialises writers anyway).
            list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
            if existing := pending_application(user):
                return existing
            if Account.objects.filter(owner_id=user.pk).exists():
                raise ValidationError(_("你已经拥有创作者账号，不需要再申请。"), code="creator")
            application.avatar.save(f"{application.handle}.jpg", ContentFile(checked.avatar), save=False)
            if checked.document is not None:
                name = f"{application.handle}.{checked.document.extension}"
                application.qualification.save(name, ContentFile(checked.document.data), save=False)
            application.save()
    except IntegrityError:
        # The one-pending-application constraint: another request of this user won the race.
        _delete_files(application.avatar, application.qualification)
        return Application.objects.get(user=user, status=Application.Status.PENDING)
    except BaseException:
        _delete_files(application.avatar, application.qualification)
        raise
    return application


def _snapshot(application: Application) -> dict:
    return {
        "status": application.status,
        "reason": application.reason,
        "reviewer": application.reviewer_id,
        "account": application.account_id,
    }


def _lock_pending(application: Application, by) -> Application:
    """The application's row, locked until the decision commits; refuses a second decision."""
    if not is_editor(by):
        raise PermissionDenied
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if locked.status != Application.Status.PENDING:
        raise ValidationError(_("这份申请已经处理过了（%(status)s）。") % {"status": locked.get_status_display()})
    if locked.user_id == by.pk:
        raise PermissionDenied(_("不能审核自己的申请。"))
    return locked


def _copy_avatar(application: Application, account: Account) -> None:
    if not application.avatar:
        return
    with application.avatar.open("rb") as source:
        data = source.read()
    stem = PurePosixPath(application.avatar.name).stem
    account.avatar.save(f"{stem}.jpg", ContentFile(data), save=False)


def approve(application: Application, by, reason: str = "") -> Account:
    """Approve: create the creator account from the application, in one transaction, audited."""
    reason = clean_text(reason).strip()
    account, committed = None, False
    try:
        with transaction.atomic():
            locked = _lock_pending(application, by)
            if Account.objects.filter(owner_id=locked.user_id).exists():
                raise ValidationError(_("申请人已经拥有创作者账号。"), code="creator")
            if Account.objects.filter(name__iexact=locked.name).exists():
                raise ValidationError(_("号名称已被其他账号使用，请驳回并说明原因。"), code="taken")
            if Account.objects.filter(handle__iexact=locked.handle).exists():
                raise ValidationError(_("账号标识已被其他账号使用，请驳回并说明原因。"), code="taken")
            before = _snapshot(locked)
            regulated = fields.is_regulated(locked.field)
            account = Account(
                owner_id=locked.user_id,
                name=locked.name,
                handle=locked.handle,
                slogan=locked.slogan,
                field=locked.field,
                intro=locked.intro,
                credential_name=locked.credential_name if regulated else "",
                credential_expires_on=locked.credential_expires_on if regulated else None,
                badge=Badge.NEWCOMER,
                verified=regulated and bool(locked.credential_name and locked.qualification),
            )
            _copy_avatar(locked, account)
            account.save()
            locked.status = Application.Status.APPROVED
            locked.reason, locked.reviewer, locked.reviewed_at, locked.account = reason, by, timezone.now(), account
            locked.save(update_fields=["status", "reason", "reviewer", "reviewed_at", "account"])
            audit.record(
                by,
                "application.approve",
                locked,
                reason=reason,
                before=before,
                after={**_snapshot(locked), "handle": account.handle, "verified": account.verified},
            )
        committed = True
    except BaseException:
        if account is not None and not committed:
            _delete_files(account.avatar)  # the row never committed: the copied file must not linger
        raise
    application.refresh_from_db()
    return account


@transaction.atomic
def reject(application: Application, by, reason: str) -> Application:
    """Reject with a reason the applicant will read; audited. They may apply again afterwards."""
    reason = clean_text(reason).strip()
    if not reason:
        raise ValidationError({"reason": _("驳回时请写明原因，申请人会看到它。")}, code="required")
    locked = _lock_pending(application, by)
    before = _snapshot(locked)
    locked.status = Application.Status.REJECTED
    locked.reason, locked.reviewer, locked.reviewed_at = reason, by, timezone.now()
    locked.save(update_fields=["status", "reason", "reviewer", "reviewed_at"])
    audit.record(by, "application.reject", locked, reason=reason, before=before, after=_snapshot(locked))
    application.refresh_from_db()
    return locked
