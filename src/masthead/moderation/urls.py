from django.urls import path

from masthead.moderation import views

app_name = "moderation"

urlpatterns = [
    path("", views.hub, name="hub"),
    path("applications/", views.applications, name="applications"),
    path("applications/<int:pk>/", views.application, name="application"),
    path("applications/<int:pk>/qualification/", views.qualification, name="qualification"),
    path("audit/", views.audit_log, name="audit"),
]
