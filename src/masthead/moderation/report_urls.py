from django.http import Http404
from django.urls import path

app_name = "reports"


def placeholder(request, **kwargs):  # until reports and appeals land
    raise Http404


urlpatterns = [
    path("report/", placeholder, name="new"),  # ?article=<id> | ?comment=<id> | ?account=<id>
    path("appeal/article/<int:pk>/", placeholder, name="appeal-article"),
    path("appeal/comment/<int:pk>/", placeholder, name="appeal-comment"),
]
