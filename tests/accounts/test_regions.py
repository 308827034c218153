"""IP属地: the region of the request that posted an article is stored and shown; the address is not."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from masthead.accounts import geo, regions
from masthead.accounts.models import Account
from masthead.articles.models import Article
from tests import factories
from tests.studio.helpers import creator, draft, form_data, reader

LONG = "<p>" + "这是一段足够长的正文，用来通过发布检查。" * 5 + "</p>"


@pytest.fixture(autouse=True)
def _fresh_lookups():
    geo.reset()  # a backend or cached answers from another test's settings must not leak in
    yield
    geo.reset()


def request_from(address: str, forwarded: str = ""):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


# --- the default, offline country-level database --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("8.8.8.8", "美国"),
        ("1.1.1.1", "澳大利亚"),
        ("1.0.1.1", "中国"),  # country level: a mainland address cannot name its province
        ("114.114.114.114", "中国"),
        ("203.198.0.1", "中国香港"),
        ("202.175.0.1", "中国澳门"),
        ("1.160.0.1", "中国台湾"),
        ("2001:4860:4860::8888", "美国"),
        ("240e::1", "中国"),
        ("127.0.0.1", "未知"),
        ("10.1.2.3", "未知"),
        ("192.168.1.1", "未知"),
        ("100.64.0.1", "未知"),  # carrier-grade NAT
        ("::1", "未知"),
        ("fe80::1", "未知"),
        ("", "未知"),
        ("not an address", "未知"),
    ],
)
def test_the_default_database_names_countries_in_chinese(address, region):
    assert regions.region_for_request(request_from(address)) == region


def test_ipv6_clients_are_looked_up_by_their_network():
    # client_ip() keys IPv6 clients by /64; the lookup uses that network's address.
    assert regions.region_for_request(request_from("2400:3200::1234:5678")) == "中国"
    assert regions.region_for_request(request_from("::ffff:8.8.8.8")) == "美国"


def test_x_forwarded_for_is_trusted_only_behind_configured_proxies(settings):
    spoofed = request_from("127.0.0.1", forwarded="8.8.8.8")
    settings.MASTHEAD_TRUSTED_PROXIES = 0
    assert regions.region_for_request(spoofed) == "未知"
    settings.MASTHEAD_TRUSTED_PROXIES = 1
    assert regions.region_for_request(spoofed) == "美国"


def test_lookups_are_cached_per_address():
    regions.region_for_address("8.8.8.8")
    hits = regions.region_for_address.cache_info().hits
    assert regions.region_for_address("8.8.8.8") == "美国"
    assert regions.region_for_address.cache_info().hits == hits + 1


# --- a MaxMind-format city database ----------------------------------------------------------------------


def _names(zh: str, en: str) -> dict:
    return {"names": {"zh-CN": zh, "en": en}}


@pytest.fixture
def city_database(tmp_path, settings):
    """A tiny GeoLite2-City-shaped database, written with mmdb-writer (a test dependency)."""
    writer_module = pytest.importorskip("mmdb_writer", reason="mmdb-writer builds the test's MaxMind database")
    netaddr = pytest.importorskip("netaddr")
    writer = writer_module.MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    china = {"iso_code": "CN", **_names("中国", "China")}
    rows = {
        "1.0.1.0/24": {"country": china, "subdivisions": [{"iso_code": "GD", **_names("广东省", "Guangdong")}]},
        # No ISO code (some databases leave it out): the Chinese name is enough.
        "1.0.2.0/24": {"country": china, "subdivisions": [_names("内蒙古自治区", "Inner Mongolia")]},
        "1.0.3.0/24": {"country": china},  # mainland, province unknown
        "1.0.4.0/24": {"country": china, "subdivisions": [{"iso_code": "TW", **_names("台湾", "Taiwan")}]},
        "8.8.8.0/24": {"country": {"iso_code": "US", **_names("美国", "United States")}},
        "203.198.0.0/16": {"country": {"iso_code": "HK", **_names("香港", "Hong Kong")}},
        "240e::/20": {"country": china, "subdivisions": [{"iso_code": "SH", **_names("上海", "Shanghai")}]},
    }
    for network, record in rows.items():
        writer.insert_network(netaddr.IPSet([network]), record)
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    settings.MASTHEAD_GEOIP_DATABASE = str(path)
    return path


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ("1.0.1.1", "广东"),
        ("1.0.2.1", "内蒙古"),
        ("1.0.3.1", "中国"),
        ("1.0.4.1", "中国台湾"),
        ("8.8.8.8", "美国"),
        ("203.198.0.1", "中国香港"),
        ("240e::1", "上海"),
        ("9.9.9.9", "未知"),  # not in the database
        ("127.0.0.1", "未知"),
    ],
)
def test_a_city_database_names_the_province_in_mainland_china(city_database, address, region):
    assert regions.region_for_request(request_from(address)) == region


def test_configuring_a_database_replaces_earlier_answers(settings, tmp_path, city_database):
    settings.MASTHEAD_GEOIP_DATABASE = ""
    assert regions.region_for_address("1.0.1.1") == "中国"
    settings.MASTHEAD_GEOIP_DATABASE = str(city_database)
    assert regions.region_for_address("1.0.1.1") == "广东"


def test_a_missing_database_file_makes_regions_unknown_instead_of_failing(settings, tmp_path):
    settings.MASTHEAD_GEOIP_DATABASE = str(tmp_path / "missing.mmdb")
    assert regions.region_for_address("8.8.8.8") == "未知"


# --- stored on posting, shown to readers -----------------------------------------------------------------


@pytest.mark.django_db
def test_record_activity_keeps_the_creator_account_at_the_latest_region(django_assert_num_queries):
    user, account = creator(ip_region="北京")
    regions.record_activity(user, "美国")
    account.refresh_from_db()
    assert account.ip_region == "美国"
    with django_assert_num_queries(0):  # unchanged: no write (the account is cached on the user)
        regions.record_activity(user, "美国")
    regions.record_activity(reader(), "美国")  # a reader without an account: nothing to update
    assert not Account.objects.filter(owner__isnull=True, ip_region="美国").exists()


@pytest.mark.django_db
def test_publishing_from_the_studio_stores_the_region_not_the_address(client):
    user, account = creator(badge=2, ip_region="北京")  # trusted: publishes at once
    article = draft(account)
    client.force_login(user)
    response = client.post(
        reverse("studio:edit", args=[article.pk]),
        form_data(article, body=LONG, action="publish"),
        REMOTE_ADDR="8.8.8.8",
    )
    assert response.status_code == 302
    article.refresh_from_db()
    account.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert (article.ip_region, account.ip_region) == ("美国", "美国")
    stored = [*Article.objects.filter(pk=article.pk).values().get().values(), *Account.objects.values().get().values()]
    assert not any("8.8.8.8" in str(value) for value in stored)

    page = client.get(article.get_absolute_url()).content.decode()
    assert "IP属地：美国" in page
    assert "8.8.8.8" not in page


@pytest.mark.django_db
def test_submitting_for_review_stores_the_region_too(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    client.post(
        reverse("studio:edit", args=[article.pk]),
        form_data(article, body=LONG, action="publish"),
        REMOTE_ADDR="1.0.1.1",
    )
    article.refresh_from_db()
    assert article.status == Article.Status.PENDING
    assert article.ip_region == "中国"


@pytest.mark.django_db
def test_the_creator_page_shows_the_region_of_the_latest_post(client):
    user, account = creator(ip_region="北京")
    factories.article(account_=account)
    regions.record_activity(user, "中国香港")
    page = client.get(account.get_absolute_url()).content.decode()
    assert "IP属地：中国香港" in page


@pytest.mark.django_db
def test_a_users_address_is_not_kept_on_the_user_either(client):
    user, account = creator(badge=2)
    article = draft(account)
    client.force_login(user)
    client.post(
        reverse("studio:edit", args=[article.pk]),
        form_data(article, body=LONG, action="publish"),
        REMOTE_ADDR="8.8.4.4",
    )
    row = get_user_model().objects.filter(pk=user.pk).values().get()
    assert not any("8.8.4.4" in str(value) for value in row.values())
