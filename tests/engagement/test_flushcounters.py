import pytest
from django.core.management import call_command

from tests import factories

pytestmark = pytest.mark.django_db


def test_flushcounters_writes_buffered_views_and_says_how_many(client, capsys):
    item = factories.article()
    for _ in range(3):
        client.get(item.get_absolute_url())
    client.get(f"/a/{item.pk}/share/qq/")
    call_command("flushcounters")
    assert "4 buffered increments written" in capsys.readouterr().out
    item.refresh_from_db()
    assert (item.view_count, item.share_count) == (3, 1)
    call_command("flushcounters")
    assert "0 buffered increments written" in capsys.readouterr().out
