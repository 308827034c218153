from django.urls import path

from masthead.discovery import views

app_name = "discovery"

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("feed/dismiss/<int:pk>/", views.dismiss, name="dismiss"),
    path("feed/personalization/", views.personalization, name="personalization"),
    path("me/interests/", views.interests, name="interests"),
    path("me/interests/delete/", views.delete_interest, name="interest-delete"),
    path("how-it-works/", views.how_it_works, name="how"),
]
