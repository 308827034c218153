from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "masthead.web"
