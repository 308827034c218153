from django.urls import path

from masthead.studio import stats_views

app_name = "stats"

urlpatterns = [
    path("", stats_views.dashboard, name="dashboard"),
    path("export.csv", stats_views.export_account, name="export"),
    path("a/<int:pk>/", stats_views.article, name="article"),
    path("a/<int:pk>/export.csv", stats_views.export_article, name="article-export"),
    path("beacon/", stats_views.beacon, name="beacon"),
]
