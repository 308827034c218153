from django.http import Http404
from django.urls import path

app_name = "search"


def index(request):  # placeholder until the search page lands
    raise Http404


urlpatterns = [path("", index, name="index")]
