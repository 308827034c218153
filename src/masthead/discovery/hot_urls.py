from django.http import Http404
from django.urls import path

app_name = "hot"


def index(request):  # placeholder until the hot page lands
    raise Http404


urlpatterns = [path("hot/", index, name="index")]
