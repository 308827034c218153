from django.urls import path

from masthead.accounts import join_views

app_name = "join"

urlpatterns = [
    path("", join_views.landing, name="landing"),
    path("apply/", join_views.apply, name="apply"),
    path("status/", join_views.status, name="status"),
]
