from django.urls import path

from masthead.studio import views

app_name = "studio"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("a/<int:pk>/edit/", views.edit, name="edit"),
    path("a/<int:pk>/autosave/", views.autosave, name="autosave"),
    path("a/<int:pk>/images/", views.upload_image, name="upload-image"),
    path("a/<int:pk>/history/", views.history, name="history"),
    path("a/<int:pk>/history/<int:rev>/", views.revision, name="revision"),
    path("a/<int:pk>/history/<int:rev>/restore/", views.restore, name="restore"),
    path("a/<int:pk>/preview/", views.preview, name="preview"),
]
