from django.urls import path

from masthead.moderation import mark_views

app_name = "marks"

urlpatterns = [
    path("", mark_views.index, name="index"),
    path("<int:pk>/", mark_views.edit, name="edit"),
]
