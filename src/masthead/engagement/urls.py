from django.urls import path

from masthead.engagement import views

app_name = "engagement"

urlpatterns = [
    path("a/<int:pk>/like/", views.like, name="like"),
    path("a/<int:pk>/favorite/", views.favorite, name="favorite"),
    path("a/<int:pk>/shared/<slug:via>/", views.shared, name="shared"),
    path("u/<slug:handle>/follow/", views.follow, name="follow"),
    # Explicit sections, not me/<slug>/: other apps have pages under /me/ too.
    *(path(f"me/{section}/", views.mine, {"section": section}, name=f"mine-{section}") for section in views.SECTIONS),
    path("me/history/<int:pk>/delete/", views.delete_history, name="history-delete"),
    path("me/history/clear/", views.clear_history, name="history-clear"),
    path("me/notifications/<int:pk>/read/", views.read_notification, name="notification-read"),
    path("me/notifications/read/", views.read_all_notifications, name="notifications-read"),
]
