"""我的 → 访问令牌 (mounted at /me/tokens/)."""

from django.urls import path

from masthead.api import token_views

app_name = "api_tokens"
urlpatterns = [
    path("", token_views.index, name="index"),
    path("<int:pk>/revoke/", token_views.revoke, name="revoke"),
]
