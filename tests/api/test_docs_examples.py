"""The examples in docs/api.md run as a newcomer would paste them: against a live server, with curl
and with a separate Python process, reading $MASTHEAD, $TOKEN and $ARTICLE from the environment."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from masthead.api.models import Scope
from masthead.articles.models import Article
from masthead.engagement.models import Comment
from tests import factories
from tests.api.conftest import make_user, token_for

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[str, str, str]]:
    """(language, the heading above it, code) of every runnable block, in page order."""
    text = GUIDE.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        heading = re.findall(r"^#+ (.+)$", text[: match.start()], re.MULTILINE)[-1]
        found.append((match[1], heading, match[2]))
    return found


def test_the_guide_has_each_example_in_both_languages():
    headings = [(lang, heading) for lang, heading, _code in examples()]
    for topic in ("List the newest", "Read one article", "Search", "Post a comment", "Start a draft"):
        for lang in ("sh", "python"):
            assert any(lang == ln and h.startswith(topic) for ln, h in headings), (topic, lang)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the curl examples need curl")
def test_every_example_runs_against_a_live_server(live_server, transactional_db, settings):
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 300
    sports = factories.channel("sports")
    article = factories.article(title="篮球规则改了", channel_=sports, tags=("篮球",))
    factories.article(title="另一篇文章")
    writer = make_user("creator")
    account = factories.account(owner=writer)
    env = {
        **os.environ,
        "MASTHEAD": live_server.url,
        "TOKEN": token_for(writer, *Scope.values),
        "ARTICLE": str(article.pk),
    }

    outputs, failures = {}, []
    for lang, heading, code in examples():
        command = ["bash", "-euo", "pipefail", "-c", code] if lang == "sh" else [sys.executable, "-c", code]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0 or not done.stdout.strip():
            failures.append(f"{lang} example under “{heading}” exited {done.returncode}:\n{done.stdout}{done.stderr}")
        outputs.setdefault(heading, []).append(done.stdout)
    assert failures == [], "\n\n".join(failures)

    def printed(topic: str) -> str:
        return "\n".join(out for heading, outs in outputs.items() if heading.startswith(topic) for out in outs)

    assert "篮球规则改了" in printed("List the newest")
    assert "not modified" in printed("Read one article")  # the ETag round trip
    assert f"{article.pk} 篮球规则改了" in printed("Search")
    posted = Comment.objects.filter(article=article, user=writer).values_list("body", flat=True)
    assert sorted(posted) == sorted(["写得很清楚，谢谢作者。", "同意，期待后续报道。"])
    drafts = Article.objects.filter(account=account, status=Article.Status.DRAFT)
    assert set(drafts.values_list("title", flat=True)) == {"本周社区篮球赛回顾", "社区篮球赛赛程"}
    assert drafts.get(title="社区篮球赛赛程").summary == "八支球队，三个周末。"
