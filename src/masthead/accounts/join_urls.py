from django.urls import path

from masthead.web import views as web_views

app_name = "join"

urlpatterns = [
    path("", web_views.join, name="landing"),
]
