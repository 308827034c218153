"""The creator's studio: article list, the writing page, autosave, images, history, preview, publishing.

Every view is for creators only and only ever shows the creator's own articles (others' answer 404).
State changes are POSTs through articles.drafts / articles.workflow; views parse and render.
"""

import json
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from masthead.accounts.models import Account
from masthead.accounts.roles import creator_account, creator_required
from masthead.articles import actions, drafts, workflow
from masthead.articles.body import figure_html
from masthead.articles.images import create_image, read_upload
from masthead.articles.models import Article, Image, Revision
from masthead.channels.queries import active_channels
from masthead.studio import writing
from masthead.studio.forms import LABEL_FIELDS, ArticleForm, ImageForm
from masthead.web.forms import add_errors
from masthead.web.templatetags.masthead import fulltime
from masthead.web.views import article_context

Status = Article.Status
UNTITLED = writing.UNTITLED
PAGE_SIZE = 20
COVER_CHOICES = 50  # the creator's newest images offered as cover
HISTORY_SIZE = 100
STATS_URL = "/studio/stats/"  # the statistics pages (studio/stats_urls.py, mounted by the root urlconf)
EDITABLE = writing.EDITABLE


def _account(request: HttpRequest) -> Account:
    return creator_account(request.user)  # creator_required made sure there is one


def _own(request: HttpRequest, pk: int, qs=None) -> Article:
    """The creator's own article; anybody else's is as good as missing (404, not 403: no probing)."""
    qs = Article.objects.select_related("channel", "account") if qs is None else qs
    return get_object_or_404(qs, pk=pk, account=_account(request))


def _status_groups(account: Account) -> list[dict]:
    counts = dict(
        Article.objects.filter(account=account).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return [{"status": value, "label": label, "count": counts.get(value, 0)} for value, label in Status.choices]


@require_safe
@creator_required
def home(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    status = request.GET.get("status", "")
    qs = Article.objects.filter(account=account).select_related("channel", "appeal").defer("body_html", "body_text")
    if status in Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs.order_by("-updated_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "channels": active_channels,
        "account": account,
        "groups": _status_groups(account),
        "current": status,
        "page": page,
        "stats_url": STATS_URL,
        "trusted": workflow.is_trusted(account),
    }
    return render(request, "studio/home.html", context)


@require_POST
@creator_required
def new(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    article = actions.create_article(account=account, title=UNTITLED, channel=writing.default_channel(account), body="")
    return redirect("studio:edit", pk=article.pk)


# The writing page ---------------------------------------------------------------------------------


def _cover_images(account: Account, article: Article) -> list[Image]:
    images = list(Image.objects.filter(account=account).order_by("-id")[:COVER_CHOICES])
    if article.cover is not None and article.cover not in images:
        images.append(article.cover)
    return images


def _initial(article: Article, text: drafts.Text) -> dict:
    return {
        "version": article.version,
        "title": "" if text.title == UNTITLED else text.title,
        "summary": text.summary,
        "channel": article.channel_id,
        "tags": pgettext("标签分隔符", "，").join(t.name for t in article.tags.all()),
        "cover": article.cover_id,
        "source": article.source,
        "body": text.body_html,
        "scheduled_at": timezone.localtime(article.scheduled_at) if article.scheduled_at else None,
        **{name: getattr(article, name) for name in LABEL_FIELDS},
    }


def _edit_context(request: HttpRequest, article: Article, form: ArticleForm, **extra) -> dict:
    latest = article.revisions.order_by("-id").first()
    return {
        "channels": active_channels,
        "article": article,
        "form": form,
        "pending": drafts.pending_changes(article, latest),
        "saved_at": drafts.saved_at(latest, article),
        "trusted": workflow.is_trusted(article.account),
        "editable": article.status in EDITABLE,
        "image_form": extra.pop("image_form", None) or ImageForm(),
        **extra,
    }


def _article_form(request: HttpRequest, article: Article, data=None, files=None) -> ArticleForm:
    images = _cover_images(article.account, article)
    text = drafts.working_text(article)
    return ArticleForm(
        data, files, initial=_initial(article, text), channels=active_channels(), images=images
    )  # fmt: skip


def _add_errors(form: ArticleForm, error: ValidationError) -> None:
    """check_publishable's keys next to the fields they are about: image problems under the body."""
    add_errors(form, error, rename={"images": "body", "removal_reason": None})


def _upload_cover(request: HttpRequest, form: ArticleForm, account: Account) -> Image | None:
    upload = form.cleaned_data.get("cover_file")
    if not upload:
        return None
    try:
        return create_image(
            read_upload(upload), filename=upload.name, alt=form.cleaned_data["cover_alt"], account=account
        )
    except ValidationError as error:
        by_field = getattr(error, "message_dict", {})
        form.add_error("cover_alt" if "alt" in by_field else "cover_file", error.messages)
        return None


def _publish(request: HttpRequest, article: Article, action: str, form: ArticleForm) -> str:
    """Run the chosen publishing step after the save; returns the message for the creator."""
    at: datetime | None = form.cleaned_data["scheduled_at"] if action == "schedule" else None
    writing.send(request, article, action, at)
    if article.status == Status.PUBLISHED:
        return _("已发布，读者现在可以看到这篇文章。")
    if article.status == Status.SCHEDULED:
        return _("已设置定时发布：%(at)s。") % {"at": fulltime(article.scheduled_at)}
    if article.scheduled_at:
        return _("已提交审核，审核通过后将于 %(at)s 发布。") % {"at": fulltime(article.scheduled_at)}
    return _("已提交审核，编辑审核通过后发布。")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@creator_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = _own(request, pk, Article.objects.select_related("channel", "account", "cover").prefetch_related("tags"))
    if request.method != "POST":
        return render(request, "studio/edit.html", _edit_context(request, article, _article_form(request, article)))
    if article.status not in EDITABLE:
        raise Http404
    form = _article_form(request, article, request.POST, request.FILES)
    action = request.POST.get("action", "save")
    if not form.is_valid():
        return render(request, "studio/edit.html", _edit_context(request, article, form), status=400)
    fields = form.article_fields()
    cover = _upload_cover(request, form, article.account)
    if form.errors:
        return render(request, "studio/edit.html", _edit_context(request, article, form), status=400)
    if cover is not None:
        fields["cover"] = cover
    save = {"body": form.cleaned_data["body"], "tags": form.cleaned_data["tags"], **fields}
    version = form.cleaned_data["version"]
    try:
        if action == "update" and article.status == Status.PUBLISHED:
            drafts.publish_changes(article, request.user, version, **save)
            if article.status == Status.PUBLISHED:
                messages.success(request, _("已更新，读者现在看到的是修改后的版本。"))
            else:
                messages.success(request, _("修改已提交审核，编辑审核通过后重新发布。"))
            return redirect("studio:edit", pk=article.pk)
        drafts.save_draft(article, request.user, version, kind=Revision.Kind.SAVE, force=action == "keep", **save)
        if action in ("publish", "schedule", "review") and article.status != Status.PUBLISHED:
            messages.success(request, _publish(request, article, action, form))
            return redirect("studio:home")
    except drafts.DraftConflict:
        context = _edit_context(request, article, form, conflict=True)
        return render(request, "studio/edit.html", context, status=409)
    except ValidationError as error:
        _add_errors(form, error)
        article.refresh_from_db()
        # What was saved before the failed step is kept: the form goes on from the new version.
        form.data = form.data.copy()
        form.data["version"] = str(article.version)
        return render(request, "studio/edit.html", _edit_context(request, article, form), status=400)
    if article.status == Status.PUBLISHED:
        messages.success(request, _("修改已保存；按“更新”后读者才会看到。"))
    else:
        messages.success(request, _("已保存。"))
    return redirect("studio:edit", pk=article.pk)


def _json_error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _autosave_fields(payload: dict, article: Article) -> dict:
    """Fields from the editor's JSON, checked like the form: unknown ids are refused, not guessed."""
    fields: dict = {}
    title = payload.get("title")
    if isinstance(title, str) and title.strip():
        fields["title"] = title
    for name in ("summary", "source"):
        if isinstance(payload.get(name), str):
            fields[name] = payload[name]
    for name in LABEL_FIELDS:
        if name in payload:
            fields[name] = payload[name] is True
    if "channel" in payload:
        fields["channel"] = writing.find_channel(pk=payload["channel"])
    if "cover" in payload:
        fields["cover"] = writing.own_cover(article.account_id, payload["cover"])
    return fields


@never_cache
@require_POST
@creator_required
def autosave(request: HttpRequest, pk: int) -> JsonResponse:
    """JSON {version, title, summary, body, …} → {version, saved_at}; 409 when saved elsewhere meanwhile."""
    article = _own(request, pk, Article.objects.select_related("channel", "account").prefetch_related("tags"))
    if article.status not in EDITABLE:
        return _json_error(400, _("这篇文章现在不能编辑。"))
    try:
        payload = json.loads(request.body)
        base_version = int(payload["version"])
        if not isinstance(payload, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _json_error(400, _("请求格式不正确。"))
    body = payload.get("body")
    tags = payload.get("tags")
    try:
        fields = _autosave_fields(payload, article)
        drafts.save_draft(
            article, request.user, base_version, force=payload.get("force") is True,
            body=body if isinstance(body, str) else None, tags=tags if isinstance(tags, str) else None, **fields,
        )  # fmt: skip
    except drafts.DraftConflict as conflict:
        message = _("此草稿已在其他窗口或设备上修改。")
        return _json_error(409, message, conflict=True, version=conflict.current_version)
    except ValidationError as error:
        errors = getattr(error, "message_dict", {"__all__": error.messages})
        return _json_error(400, _("有内容未能保存，请检查。"), errors=errors)
    saved = timezone.now()  # saved now, or found already saved (a retry)
    return JsonResponse(
        {"version": article.version, "saved_at": saved.isoformat(), "saved_at_display": fulltime(saved)}
    )  # fmt: skip


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@never_cache
@require_POST
@creator_required
def upload_image(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a picture for the article body. JSON for the editor; a message with the code to paste
    into the body for the page without JavaScript."""
    article = _own(request, pk)
    form = ImageForm(request.POST, request.FILES)
    errors: dict[str, list[str]] = {}
    image = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            image = create_image(
                read_upload(data["file"]), filename=data["file"].name, alt=data["alt"], account=article.account,
                caption=data["caption"], credit=data["credit"], label=data["label"],
                is_ai_generated=data["is_ai_generated"],
            )  # fmt: skip
        except ValidationError as error:
            errors = getattr(error, "message_dict", None) or {"file": error.messages}
        else:
            if data["taken_on"] or data["taken_place"]:
                image.taken_on, image.taken_place = data["taken_on"], " ".join(data["taken_place"].split())
                image.save(update_fields=["taken_on", "taken_place"])
    else:
        errors = {name: [str(m) for m in ms] for name, ms in form.errors.items()}
    if _wants_json(request):
        if image is None:
            return JsonResponse({"error": _("图片没有上传成功。"), "errors": errors}, status=400)
        return JsonResponse({"id": image.pk, "alt": image.alt, "figure": figure_html(image)}, status=201)
    if image is None:
        for field_errors in errors.values():
            for message in field_errors:
                messages.error(request, message)
    else:
        messages.success(
            request,
            _("图片已上传。把这段代码粘贴到正文中要放图片的位置：%(code)s")
            % {"code": f'<figure><img data-image="{image.pk}"></figure>'},
        )
    return redirect(reverse("studio:edit", args=[article.pk]) + "#image-upload")


# History ------------------------------------------------------------------------------------------


@never_cache
@require_safe
@creator_required
def history(request: HttpRequest, pk: int) -> HttpResponse:
    article = _own(request, pk)
    revisions = list(article.revisions.select_related("author").order_by("-id")[:HISTORY_SIZE])
    context = {"channels": active_channels, "article": article, "revisions": revisions}
    return render(request, "studio/history.html", context)


@never_cache
@require_safe
@creator_required
def revision(request: HttpRequest, pk: int, rev: int) -> HttpResponse:
    """What changed from this revision to the current text."""
    article = _own(request, pk)
    old = get_object_or_404(article.revisions.select_related("author"), pk=rev)
    current = drafts.working_text(article)
    context = {
        "channels": active_channels,
        "article": article,
        "revision": old,
        "diff": drafts.diff_texts(old, current),
        "editable": article.status in EDITABLE,
    }
    return render(request, "studio/revision.html", context)


@require_POST
@creator_required
def restore(request: HttpRequest, pk: int, rev: int) -> HttpResponse:
    article = _own(request, pk)
    old = get_object_or_404(article.revisions, pk=rev)
    try:
        drafts.restore_revision(article, old, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("studio:history", pk=article.pk)
    messages.success(request, _("已恢复到 %(time)s 的版本。") % {"time": fulltime(old.created_at)})
    return redirect("studio:edit", pk=article.pk)


# Preview ------------------------------------------------------------------------------------------


@never_cache
@require_safe
@creator_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The article exactly as readers will see it (the working copy of a published one); never cached
    and never counted as a view."""
    item = _own(request, pk, Article.objects.select_related("account", "channel", "cover").prefetch_related("tags"))
    text = drafts.working_text(item)
    item.title, item.body_html = text.title, text.body_html
    item.summary = text.summary or item.summary
    response = render(request, "studio/preview.html", {**article_context(request, item), "preview": True})
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
