from django.urls import path

from masthead.engagement import comment_views

app_name = "comments"

urlpatterns = [
    path("a/<int:pk>/comments/", comment_views.comment_list, name="list"),  # ?sort=hot|new&page=N&reply=<id>
    path("a/<int:pk>/comments/post/", comment_views.post, name="post"),
    path("a/<int:pk>/comments/<int:comment_pk>/", comment_views.thread, name="thread"),
    path("comments/<int:comment_pk>/delete/", comment_views.delete, name="delete"),
    path("comments/<int:comment_pk>/remove/", comment_views.remove, name="remove"),
    path("comments/<int:comment_pk>/like/", comment_views.like, name="like"),
]
