from django.urls import path

from masthead.moderation import report_views as views

app_name = "reports"

urlpatterns = [
    path("report/", views.new_report, name="new"),  # ?article=<id> | ?comment=<id> | ?account=<id>
    path("report/<int:pk>/", views.sent, name="sent"),
    path("appeal/article/<int:pk>/", views.appeal_article, name="appeal-article"),
    path("appeal/comment/<int:pk>/", views.appeal_comment, name="appeal-comment"),
    path("review/reports/", views.queue, name="queue"),
    path("review/reports/<str:kind>/<int:pk>/", views.review_target, name="target"),
    path("review/appeals/", views.appeal_queue, name="appeals"),
    path("review/appeals/<int:pk>/", views.appeal_detail, name="appeal"),
]
