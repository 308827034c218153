"""The sensitive-word list for editors; masthead/urls.py mounts it at review/terms/."""

from django.urls import path

from masthead.moderation import terms_views as views

app_name = "terms"

urlpatterns = [
    path("", views.index, name="index"),
    path("add/", views.add, name="add"),
    path("try/", views.try_text, name="try"),
    path("<int:pk>/activate/", views.activate, name="activate"),
    path("<int:pk>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
