"""(being written)"""

app_name = "api_docs"
urlpatterns: list = []
