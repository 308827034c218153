"""Comment pages and forms. Every action is a plain form POST that redirects (no JavaScript needed);
comments.js sends the same forms with `Accept: application/json` and gets JSON with the re-rendered
HTML instead, so nothing reloads."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts import ratelimit, regions
from masthead.articles.models import Article
from masthead.channels.queries import active_channels
from masthead.engagement import comment_queries as queries
from masthead.engagement import comments as actions
from masthead.engagement.models import Comment
from masthead.web.pagecache import cache_page_for_readers


class CommentForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("发表跟帖"),
        max_length=actions.BODY_MAX,
        strip=True,
        help_text=format_lazy(gettext_lazy("最多 {n} 字"), n=actions.BODY_MAX),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("文明上网，理性发言")}),
        error_messages={
            "required": gettext_lazy("请输入跟帖内容。"),
            "max_length": gettext_lazy("跟帖最多 %(limit_value)d 个字，现在是 %(show_value)d 个字。"),
        },
    )
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=actions.TOKEN_MAX)
    reply_to = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_token", uuid.uuid4().hex)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _article(pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("account", "channel"), pk=pk)


def _readable(article: Article) -> None:
    if article.status != Article.Status.PUBLISHED:
        raise Http404


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _list_url(article: Article, sort: str = "hot", page: int = 1) -> str:
    url = reverse("comments:list", args=[article.pk]) + f"?sort={sort}"
    return url + (f"&page={page}" if page > 1 else "")


def article_block(request: HttpRequest, article: Article) -> dict:
    """What engagement/partials/comments.html needs on the article page: the first page (hot).

    Anonymous readers get nothing personal (the page is cached and shared): no form, no token.
    """
    viewer = queries.viewer_for(request.user, article)
    page = queries.comment_page(article, viewer, sort="hot")
    form = CommentForm() if viewer.signed_in and article.status == Article.Status.PUBLISHED else None
    return {"page": page, "form": form, "next_url": article.get_absolute_url()}


def _context(request: HttpRequest, article: Article, **extra) -> dict:
    return {"channels": active_channels, "article": article, **extra}


def _render_threads(request: HttpRequest, page) -> str:
    context = {"page": page, "next_url": page.article.get_absolute_url()}
    return render_to_string("engagement/comments/_threads.html", context, request=request)


def _fragment_context(request: HttpRequest, article: Article, viewer) -> dict:
    """What comment fragments rendered for JSON need: forms in them fall back to the article page."""
    return {"page": {"viewer": viewer, "article": article}, "next_url": article.get_absolute_url()}


def _render_comment(request: HttpRequest, comment: Comment, viewer) -> str:
    queries.mark_liked(request.user, [comment])
    context = {"c": comment, **_fragment_context(request, comment.article, viewer)}
    return render_to_string("engagement/comments/_comment.html", context, request=request)


@require_safe
def comment_list(request: HttpRequest, pk: int) -> HttpResponse:
    """All comments of an article, a page at a time; ?reply=<id> opens the reply form for one comment."""
    article = _article(pk)
    _readable(article)
    viewer = queries.viewer_for(request.user, article)
    sort, number = queries.parse_sort(request.GET.get("sort")), queries.parse_page(request.GET.get("page"))
    page = queries.comment_page(article, viewer, sort=sort, number=number)
    if wants_json(request):
        return JsonResponse(
            {
                "html": _render_threads(request, page),
                "next": _list_url(article, sort, number + 1) if page.has_next else None,
                "count": article.comment_count,
                "sort": sort,
            }
        )
    # Anonymous readers share the cached page (nothing personal on it); a new comment purges it.
    return cache_page_for_readers(_list_page(request, article, page), [f"article:{article.pk}"])


def _list_page(request, article, page, *, form=None, status=200, reply_to=None) -> HttpResponse:
    viewer = page.viewer
    if reply_to is None and (reply := request.GET.get("reply", "")).isdigit():
        reply_to = Comment.objects.filter(article=article, pk=int(reply), status=Comment.Status.VISIBLE).first()
    if form is None and viewer.signed_in:
        form = CommentForm(initial={"reply_to": reply_to.pk} if reply_to else None)
    context = _context(
        request, article, page=page, form=form, reply_to=reply_to, sort=page.sort, next_url=request.get_full_path()
    )
    return render(request, "engagement/comments/list.html", context, status=status)


@require_safe
def thread(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    """One thread with all its replies (the "more replies" link)."""
    article = _article(pk)
    _readable(article)
    viewer = queries.viewer_for(request.user, article)
    head = queries.get_head(article, comment_pk, viewer)
    if head is None:
        raise Http404
    page = queries.thread_page(head, viewer, number=queries.parse_page(request.GET.get("page")))
    if wants_json(request):
        context = {"page": page, "replies": page.thread.replies, "next_url": article.get_absolute_url()}
        html = render_to_string("engagement/comments/_replies.html", context, request=request)
        return JsonResponse({"html": html, "next": None})
    form = CommentForm(initial={"reply_to": head.pk}) if viewer.signed_in else None
    context = _context(request, article, page=page, form=form, reply_to=head, next_url=request.get_full_path())
    return render(request, "engagement/comments/thread.html", context)


def _error_payload(error: ValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return {key: [str(m) for m in ValidationError(msgs).messages] for key, msgs in error.error_dict.items()}
    return {"__all__": error.messages}


def _json_error(error: ValidationError, status: int = 400) -> JsonResponse:
    response = JsonResponse({"ok": False, "errors": _error_payload(error)}, status=status)
    if isinstance(error, actions.RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def _login_needed(request: HttpRequest, article: Article) -> HttpResponse:
    login = reverse("accounts:login") + "?next=" + article.get_absolute_url()
    if wants_json(request):
        return JsonResponse({"ok": False, "login": login, "errors": {"__all__": [_("请先登录。")]}}, status=403)
    return redirect_to_login(article.get_absolute_url() + "#comments")


@require_POST
def post(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    if not request.user.is_authenticated:
        return _login_needed(request, article)
    form = CommentForm(request.POST)
    reply_to = None
    error: ValidationError | None = None
    comment = None
    if form.is_valid():
        if reply_id := form.cleaned_data["reply_to"]:
            reply_to = Comment.objects.filter(pk=reply_id, article=article).first()
            if reply_to is None:
                error = ValidationError({"reply_to": _("要回复的跟帖已不存在。")})
        if error is None:
            try:
                comment = actions.post_comment(
                    request.user,
                    article,
                    form.cleaned_data["body"],
                    reply_to=reply_to,
                    client_token=form.cleaned_data["client_token"],
                    region=regions.region_for_request(request),
                    ip=ratelimit.client_ip(request),
                )
            except ValidationError as exc:
                error = exc
    else:
        error = ValidationError(form.errors.as_data())
    status = 429 if isinstance(error, actions.RateLimited) else 400
    if error is not None:
        if wants_json(request):
            return _json_error(error, status)
        if form.is_valid():
            _attach(form, error)
        _readable(article)
        viewer = queries.viewer_for(request.user, article)
        page = queries.comment_page(article, viewer, sort="new")
        response = _list_page(request, article, page, form=form, status=status, reply_to=reply_to)
        if isinstance(error, actions.RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response
    held = comment.status == Comment.Status.HELD
    message = _("跟帖已提交，审核通过后其他读者才能看到。") if held else _("跟帖已发表。")
    if wants_json(request):
        article.refresh_from_db(fields=["comment_count"])
        viewer = queries.viewer_for(request.user, article)
        return JsonResponse(
            {
                "ok": True,
                "id": comment.pk,
                "thread": comment.thread_id,
                "held": held,
                "message": message,
                "count": article.comment_count,
                "html": _render_comment(request, comment, viewer)
                if comment.thread_id
                else render_to_string(
                    "engagement/comments/_thread.html",
                    {"t": queries.Thread(comment), **_fragment_context(request, article, viewer)},
                    request=request,
                ),
                "client_token": uuid.uuid4().hex,  # for the next comment from the same form
            }
        )
    messages.success(request, message)
    if comment.thread_id:
        return HttpResponseRedirect(actions.comment_url(comment))
    return HttpResponseRedirect(_list_url(article, "new") + f"#c{comment.pk}")


def _attach(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _comment_action(request: HttpRequest, comment_pk: int, act) -> HttpResponse:
    """Run `act(comment)` (which returns a message or None) and answer with a redirect or JSON."""
    comment = get_object_or_404(Comment.objects.select_related("article__account", "user"), pk=comment_pk)
    article = comment.article
    if not request.user.is_authenticated:
        return _login_needed(request, article)
    try:
        message = act(comment)
    except PermissionDenied as denied:
        if wants_json(request):
            return JsonResponse({"ok": False, "errors": {"__all__": [str(denied) or _("没有权限。")]}}, status=403)
        raise
    except ValidationError as error:
        if wants_json(request):
            return _json_error(error, 429 if isinstance(error, actions.RateLimited) else 400)
        for text in error.messages:
            messages.error(request, text)
        return HttpResponseRedirect(_safe_next(request, actions.comment_url(comment)))
    if wants_json(request):
        viewer = queries.viewer_for(request.user, article)
        article.refresh_from_db(fields=["comment_count"])
        comment.refresh_from_db()
        html = _render_comment(request, comment, viewer)
        return JsonResponse(
            {
                "ok": True,
                "id": comment.pk,
                "status": comment.status,
                "like_count": comment.like_count,
                "liked": comment.is_liked,
                "count": article.comment_count,
                "message": message or "",
                "html": html,
            }
        )
    if message:
        messages.success(request, message)
    return HttpResponseRedirect(_safe_next(request, actions.comment_url(comment)))


@require_POST
def delete(request: HttpRequest, comment_pk: int) -> HttpResponse:
    def act(comment):
        actions.delete_own(request.user, comment)
        return _("跟帖已删除。")

    return _comment_action(request, comment_pk, act)


@require_POST
def remove(request: HttpRequest, comment_pk: int) -> HttpResponse:
    def act(comment):
        actions.remove_comment(comment, by=request.user, reason=request.POST.get("reason", ""))
        return _("跟帖已移除。")

    return _comment_action(request, comment_pk, act)


@require_POST
def like(request: HttpRequest, comment_pk: int) -> HttpResponse:
    on = request.POST.get("on", "1") != "0"

    def act(comment):
        actions.set_like(request.user, comment, on)

    return _comment_action(request, comment_pk, act)
