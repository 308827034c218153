from django.urls import path

from masthead.web import feeds, sitemaps, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("a/<int:pk>/", views.article, name="article"),
    path("a/<int:pk>/share/<slug:target>/", views.share_redirect, name="share"),
    path("c/<slug:slug>/", views.channel, name="channel"),
    path("u/<slug:handle>/", views.creator, name="creator"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("care/<str:state>/", views.care_edition, name="care"),
    path("lang/<str:code>/", views.set_language, name="language"),
    path("feed/rss/", feeds.SiteFeed(), name="feed-rss"),
    path("feed/atom/", feeds.atom(feeds.SiteFeed)(), name="feed-atom"),
    path("c/<slug:slug>/rss/", feeds.ChannelFeed(), name="channel-rss"),
    path("c/<slug:slug>/atom/", feeds.atom(feeds.ChannelFeed)(), name="channel-atom"),
    path("u/<slug:handle>/rss/", feeds.CreatorFeed(), name="creator-rss"),
    path("u/<slug:handle>/atom/", feeds.atom(feeds.CreatorFeed)(), name="creator-atom"),
    path("sitemap.xml", sitemaps.sitemap, name="sitemap"),
    path("sitemap-news.xml", sitemaps.news_sitemap, name="news-sitemap"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
]
