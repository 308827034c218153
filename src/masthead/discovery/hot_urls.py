from django.urls import path

from masthead.discovery import hot_views as views

app_name = "hot"

urlpatterns = [
    path("hot/", views.index, name="index"),
    path("hot/<slug:slug>/", views.channel, name="channel"),
    path("review/hot/", views.review, name="review"),
    path("review/hot/pin/", views.pin, name="pin"),
    path("review/hot/remove/", views.remove, name="remove"),
    path("review/hot/<int:pk>/clear/", views.clear, name="clear"),
]
