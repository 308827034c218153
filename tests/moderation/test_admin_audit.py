"""Every change made through Django's admin lands in the audit log: who, what, before/after, why."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from masthead.channels.models import Channel
from masthead.moderation.models import AuditEntry, SensitiveTerm
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase"


@pytest.fixture
def boss():
    return get_user_model().objects.create_superuser("boss", "boss@example.org", PASSWORD)


@pytest.fixture
def admin_client(boss) -> Client:
    client = Client()
    client.force_login(boss)
    return client


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def channel_form(channel: Channel, **changes) -> dict:
    data = {"name": channel.name, "slug": channel.slug, "order": channel.order, "description": channel.description}
    if channel.is_active:
        data["is_active"] = "on"
    return {**data, **changes}


def test_a_change_records_who_what_before_after_and_the_change_message(admin_client, boss):
    channel = factories.channel("tech")
    response = admin_client.post(f"/admin/channels/channel/{channel.pk}/change/", channel_form(channel, name="科学"))
    assert response.status_code == 302
    [entry] = entries("admin.change")
    assert (entry.actor, entry.actor_name) == (boss, "boss")
    assert (entry.target_type, entry.target_id, entry.target_repr) == ("channels.channel", str(channel.pk), "科学")
    assert entry.before == {"name": channel.name} and entry.after == {"name": "科学"}
    assert entry.reason == LogEntry.objects.get(action_flag=CHANGE).get_change_message()
    assert entry.reason  # e.g. "已修改 名称。"


def test_an_addition_and_a_deletion_are_recorded(admin_client):
    response = admin_client.post(
        "/admin/channels/channel/add/", {"name": "健康", "slug": "health", "order": 130, "is_active": "on"}
    )
    assert response.status_code == 302
    channel = Channel.objects.get(slug="health")
    [added] = entries("admin.add")
    assert added.target_id == str(channel.pk)
    assert added.before == {} and added.after["name"] == "健康" and added.after["slug"] == "health"

    response = admin_client.post(f"/admin/channels/channel/{channel.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Channel.objects.filter(pk=channel.pk).exists()
    [deleted] = entries("admin.delete")
    assert deleted.target_id == str(channel.pk)
    assert deleted.before["name"] == "健康" and deleted.after == {}


def test_deleting_several_at_once_records_each(admin_client, boss):
    first = Channel.objects.create(name="一号", slug="one", order=901)
    second = Channel.objects.create(name="二号", slug="two", order=902)
    response = admin_client.post(
        "/admin/channels/channel/",
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Channel.objects.filter(pk__in=[first.pk, second.pk]).exists()
    deleted = entries("admin.delete")
    assert {e.target_id for e in deleted} == {str(first.pk), str(second.pk)}
    assert all(e.actor == boss for e in deleted)
    assert {e.before["name"] for e in deleted} == {"一号", "二号"}


def test_group_membership_and_staff_status_changes_are_recorded(admin_client):
    person = get_user_model().objects.create_user("writer", "w@example.org", PASSWORD)
    editors = Group.objects.create(name="editors")
    data = {
        "username": "writer", "email": "w@example.org", "first_name": "", "last_name": "",
        "is_active": "on", "is_staff": "on", "groups": [editors.pk],
        "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00",
    }  # fmt: skip
    response = admin_client.post(f"/admin/auth/user/{person.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    [entry] = entries("admin.change")
    assert entry.before["is_staff"] is False and entry.after["is_staff"] is True
    assert entry.before["groups"] == [] and entry.after["groups"] == [editors.pk]


def test_a_password_change_is_recorded_without_the_hash(admin_client):
    person = get_user_model().objects.create_user("writer", "w@example.org", PASSWORD)
    old_hash = person.password
    response = admin_client.post(
        f"/admin/auth/user/{person.pk}/password/",
        {"password1": "another-long-pass-phrase", "password2": "another-long-pass-phrase"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    [entry] = entries("admin.change")
    assert entry.before == {"password": "********"} and entry.after == {"password": "********"}
    stored = str(entry.before) + str(entry.after) + entry.reason
    assert old_hash not in stored and person.password not in stored


def test_admin_code_that_audits_itself_is_not_recorded_twice(admin_client):
    response = admin_client.post(
        "/admin/moderation/sensitiveterm/add/", {"term": "赌博", "action": "block", "note": "", "is_active": "on"}
    )
    assert response.status_code == 302
    term = SensitiveTerm.objects.get(term="赌博")
    logged = AuditEntry.objects.filter(target_type="moderation.sensitiveterm", target_id=str(term.pk))
    assert [e.action for e in logged] == ["term.add"]


def test_changes_outside_the_admin_are_not_attributed_to_it(boss):
    channel = factories.channel("tech")
    channel.name = "改名"
    channel.save()
    assert not AuditEntry.objects.filter(action__startswith="admin.").exists()


def test_the_audit_log_stays_read_only_in_the_admin(admin_client, boss):
    factories.channel("tech")
    entry = AuditEntry.objects.create(actor=boss, actor_name="boss", action="test.action", reason="原因")
    assert admin_client.get("/admin/moderation/auditentry/").status_code == 200
    page = admin_client.get(f"/admin/moderation/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"/admin/moderation/auditentry/{entry.pk}/change/", {"reason": "改掉"}).status_code == 403
    assert admin_client.post(f"/admin/moderation/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/moderation/auditentry/add/").status_code == 403
    bulk = admin_client.post(
        "/admin/moderation/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert entry.reason == "原因"
