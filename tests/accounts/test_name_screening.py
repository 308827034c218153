"""Account names (and the slogan and introduction readers see with them) against the sensitive-word list."""

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from masthead.accounts import applications
from masthead.accounts.join_forms import AccountAdminForm
from masthead.accounts.models import Account, Application
from masthead.moderation import screening
from tests import factories
from tests.accounts.test_join import data, editor, form, logged_in, private_storage, user  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def terms():
    screening.reset()
    boss = editor("terms-editor")
    screening.add_terms("赌博", "block", boss)
    screening.add_terms("代购", "review", boss)
    yield
    screening.reset()


def test_a_name_with_a_blocked_term_is_refused_with_the_term_named():
    response = logged_in(user()).post("/join/apply/", form(name="赌 博之家"))
    assert response.status_code == 200
    assert "号名称含有不允许的词语“赌博”，请修改后再提交。" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize(("field", "label"), [("slogan", "签名"), ("intro", "简介")])
def test_the_slogan_and_introduction_are_screened_too(field, label):
    text = "每天分享赌博技巧，带你走遍山野小路。"
    with pytest.raises(ValidationError) as exc:
        applications.apply(user(), data(**{field: text}))
    assert exc.value.message_dict[field] == [f"{label}含有不允许的词语“赌博”，请修改后再提交。"]


def test_a_review_term_goes_to_the_editor_with_the_term_highlighted():
    application = applications.apply(user(), data(name="海外代购笔记", slogan="记录山野里的小事"))
    assert application.status == Application.Status.PENDING
    [flagged] = applications.flagged_fields(application)
    assert flagged.label == "号名称" and flagged.terms == ["代购"] and not flagged.blocked
    assert str(flagged.highlighted) == "海外<mark>代购</mark>笔记"


def test_flagged_text_is_escaped_for_the_reviewer():
    application = applications.apply(user(), data(name="<b>代购</b>小站"))
    [flagged] = applications.flagged_fields(application)
    assert "<b>" not in flagged.highlighted and "&lt;b&gt;<mark>代购</mark>" in flagged.highlighted


def test_a_clean_application_has_nothing_flagged():
    assert applications.flagged_fields(applications.apply(user(), data())) == []


# --- renames by editors and admins ---------------------------------------------------------------------------


def admin_form(account: Account, **changes):
    """The form the admin builds for an account with AccountAdminForm (ModelAdmin.form)."""
    form_class = modelform_factory(Account, form=AccountAdminForm, fields=["name", "handle", "slogan"])
    values = {"name": account.name, "handle": account.handle, "slogan": account.slogan, **changes}
    return form_class(values, instance=account)


def test_a_rename_with_a_blocked_term_is_refused():
    account = factories.account(name="山野观察")
    form = admin_form(account, name="赌博观察")
    assert not form.is_valid()
    assert form.errors["name"] == ["号名称含有不允许的词语“赌博”，请修改后再提交。"]


def test_editors_may_use_review_terms_and_official_words():
    account = factories.account(name="山野观察")
    assert applications.check_rename("代购观察", account) == "代购观察"
    form = admin_form(account, name="平台 官方辟谣")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "平台 官方辟谣"


def test_a_rename_to_a_taken_name_is_refused():
    factories.account(name="已有的号")
    account = factories.account(name="山野观察")
    with pytest.raises(ValidationError, match="已被使用"):
        applications.check_rename("已有的号", account)
    assert applications.check_rename("山野观察", account) == "山野观察"  # its own name is fine


def test_an_unchanged_name_does_not_block_other_edits():
    account = factories.account(name="老赌博号")  # named before the term was added
    form = admin_form(account, slogan="新的签名")
    assert form.is_valid(), form.errors
