from django.urls import path

from masthead.articles import review_views as views

app_name = "review_articles"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.review, name="review"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/reviewed/", views.mark_reviewed, name="reviewed"),
    path("<int:pk>/remove/", views.remove, name="remove"),
    path("account/<slug:handle>/", views.account, name="account"),
    path("account/<slug:handle>/badge/", views.badge, name="badge"),
    path("account/<slug:handle>/credential/", views.credential, name="credential"),
]
