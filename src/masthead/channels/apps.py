from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "masthead.channels"
