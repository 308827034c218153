"""The human-readable API reference (mounted at /api/v1/docs/, before the API itself)."""

from django.urls import path

from masthead.api import docs_views

app_name = "api_docs"
urlpatterns = [path("", docs_views.index, name="index")]
