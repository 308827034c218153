from django.urls import path

from masthead.engagement import comment_review_views as views

app_name = "comment_review"

urlpatterns = [
    path("", views.queue, name="queue"),  # ?tab=held|recent|removed&article=<id>
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    path("<int:pk>/restore/", views.restore, name="restore"),
]
