from django.urls import path  # noqa: F401

app_name = "comment_review"

urlpatterns: list = []
