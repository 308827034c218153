"""`masthead import`: JSON Lines, RSS, Atom and WordPress files written here, as an operator would bring them."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from masthead.accounts.models import Account
from masthead.articles import signals
from masthead.articles.models import Article
from masthead.moderation import screening
from tests import factories
from tests.accounts.test_join import editor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _channels():
    factories.channel("sports")  # makes sure the default channels exist


def run(*paths: Path, **options) -> str:
    out = io.StringIO()
    call_command("import", *map(str, paths), stdout=out, progress=False, **options)
    return out.getvalue()


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode() for r in records]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def story(n: int, **fields) -> dict:
    return {
        "title": f"第{n}篇测试报道",
        "text": f"这是第{n}篇报道的第一段。\n这是第二段，说明比赛的经过。",
        "category": "体育",
        "author": "张三",
        "published": f"2024-05-0{n}T08:00:00+08:00",
        **fields,
    }


def test_jsonl_import_maps_categories_creates_accounts_and_keeps_dates(tmp_path):
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            story(1, tags=["足球", "中超"]),
            story(2, category="球类", author="李四", tags="篮球，CBA"),
            story(3, category="股市", author="李四", html="<p>大盘<strong>上涨</strong></p>", text=None),
        ],
    )
    out = run(path, map="球类=sports,股市=finance")

    assert "新增 3 篇" in out
    first = Article.objects.get(title="第1篇测试报道")
    assert first.status == Article.Status.PUBLISHED
    assert first.published_at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert first.channel.slug == "sports"  # 体育 is a channel's own name: no mapping needed
    assert first.body_html == "<p>这是第1篇报道的第一段。</p><p>这是第二段，说明比赛的经过。</p>"
    assert sorted(first.tags.values_list("name", flat=True)) == ["中超", "足球"]
    assert sorted(Article.objects.get(title="第2篇测试报道").tags.values_list("name", flat=True)) == ["CBA", "篮球"]
    assert Article.objects.get(title="第3篇测试报道").channel.slug == "finance"
    assert Article.objects.get(title="第3篇测试报道").body_html == "<p>大盘<strong>上涨</strong></p>"
    zhang, li = Account.objects.get(name="张三"), Account.objects.get(name="李四")
    assert (zhang.handle, li.handle) == ("zhang-san", "li-si")
    assert (zhang.article_count, li.article_count) == (1, 2)
    assert zhang.owner is None


def test_existing_accounts_are_reused_and_new_handles_are_unique(tmp_path):
    existing = factories.account(name="王五", handle="wangwu-news")
    factories.account(name="另一个号", handle="zhang-san")
    path = write_jsonl(
        tmp_path / "a.jsonl", [story(1, author="王五"), story(2, author="张三"), story(3, author="章三")]
    )
    run(path)

    assert Article.objects.get(title="第1篇测试报道").account == existing
    assert Account.objects.get(name="张三").handle == "zhang-san-2"
    assert Account.objects.get(name="章三").handle == "zhang-san-3"


def test_reimport_skips_what_is_already_there(tmp_path):
    records = [story(1), story(2), {k: v for k, v in story(3).items() if k != "published"}]
    path = write_jsonl(tmp_path / "a.jsonl", records)
    assert "新增 3 篇" in run(path)

    out = run(path)
    assert "新增 0 篇，已存在跳过 3 篇" in out
    assert Article.objects.count() == 3
    # A new item in the same file still comes in.
    write_jsonl(path, [*records, story(4)])
    assert "新增 1 篇，已存在跳过 3 篇" in run(path)


def test_reimport_recognises_an_item_by_its_source_id_even_after_its_title_changed(tmp_path):
    path = write_jsonl(tmp_path / "feed.jsonl", [story(1, id="src-1"), story(2, id="src-2")])
    assert "新增 2 篇" in run(path)
    write_jsonl(path, [story(1, id="src-1", title="标题后来改过了"), story(2, id="src-2")])
    assert "新增 0 篇，已存在跳过 2 篇" in run(path)
    assert not Article.objects.filter(title="标题后来改过了").exists()


def test_refusals_are_reported_with_reasons_and_the_rest_is_imported(tmp_path):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        [
            story(1),
            story(2, title="   "),
            story(3, text="", html="<script>alert(1)</script><p> </p>"),
            story(4, published="去年夏天"),
            story(5, published="2999-01-01T00:00:00Z"),
            story(6, category="星座"),
            "不是 JSON".encode(),
            b'{"title": "\xff\xfe broken", "text": "x"}',
            story(7, title="长" * 101),
            [1, 2],
        ],
    )
    out = run(path)

    assert Article.objects.count() == 1
    assert "新增 1 篇" in out and "拒绝 9 条" in out
    assert "没有标题: 1 — bad.jsonl:2" in out
    assert "正文为空（清理后）: 1 — bad.jsonl:3" in out
    assert "日期无法识别或在未来: 2 — bad.jsonl:4 (去年夏天), bad.jsonl:5" in out
    assert "分类没有对应的频道: 1 — bad.jsonl:6 (星座)" in out
    assert "不是 UTF-8 编码: 1 — bad.jsonl:8" in out
    assert "不是合法的 JSON: 2 — bad.jsonl:7" in out
    assert "标题超过 100 个字: 1 — bad.jsonl:9" in out


def test_unknown_categories_can_go_to_a_default_channel_or_all_to_one(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [story(1, category="星座"), story(2)])
    run(path, default_channel="top")
    assert Article.objects.get(title="第1篇测试报道").channel.slug == "top"
    assert Article.objects.get(title="第2篇测试报道").channel.slug == "sports"

    Article.objects.all().delete()
    run(path, channel="tech")
    assert set(Article.objects.values_list("channel__slug", flat=True)) == {"tech"}


def test_bad_options_stop_before_anything_is_written(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [story(1)])
    with pytest.raises(CommandError, match="nowhere"):
        run(path, channel="nowhere")
    with pytest.raises(CommandError, match="分类=频道标识"):
        run(path, map="体育")
    with pytest.raises(CommandError, match=r"missing\.jsonl"):
        run(tmp_path / "missing.jsonl")
    assert not Article.objects.exists()


def test_mapping_can_come_from_a_file(tmp_path):
    mapping = tmp_path / "map.txt"
    mapping.write_text("# 分类 = 频道\n球类 = sports\n\n股市=finance\n", encoding="utf-8")
    path = write_jsonl(tmp_path / "a.jsonl", [story(1, category="球类"), story(2, category="股市")])
    run(path, map=str(mapping))
    assert sorted(Article.objects.values_list("channel__slug", flat=True)) == ["finance", "sports"]


def test_hostile_html_is_made_inert_and_reported(tmp_path):
    hostile = (
        '<p onclick="steal()">正文<script>alert(document.cookie)</script>'
        '<a href="javascript:alert(1)">链接</a><img src="x" onerror="alert(2)"></p>'
        '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
    )
    path = write_jsonl(tmp_path / "a.jsonl", [story(1, html=hostile), story(2)])
    out = run(path)

    body = Article.objects.get(title="第1篇测试报道").body_html
    for needle in ("script", "onclick", "onerror", "javascript:", "iframe", "style", "<img"):
        assert needle not in body
    assert "正文" in body and "链接" in body
    assert "1 篇含危险的 HTML（脚本、事件属性等），已清除后导入：a.jsonl:1" in out


def test_blocked_words_are_refused_and_review_words_wait_for_an_editor(tmp_path):
    screening.reset()
    boss = editor("import-terms")
    screening.add_terms("违禁词", "block", boss)
    screening.add_terms("待审词", "review", boss)
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [story(1, text="这段话里有违禁词。"), story(2, title="第2篇待审词报道"), story(3)],
    )
    out = run(path)
    screening.reset()

    assert "含有禁用词: 1 — a.jsonl:1 (正文: 违禁词)" in out
    assert "1 篇含需审核的词，已送编辑审核：a.jsonl:2" in out
    assert Article.objects.get(title="第2篇待审词报道").status == Article.Status.PENDING
    assert Article.objects.get(title="第3篇测试报道").status == Article.Status.PUBLISHED


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>体育周刊</title>
<item>
  <title>主队逆转取胜 &amp; 晋级</title>
  <link>https://example.com/1</link><guid>https://example.com/1</guid>
  <pubDate>Wed, 01 May 2024 10:00:00 +0800</pubDate>
  <dc:creator>赵六</dc:creator>
  <category>体育</category><category>足球</category>
  <description>摘要</description>
  <content:encoded><![CDATA[<p>下半场<em>连入两球</em>。</p><script>x()</script>]]></content:encoded>
</item>
<item>
  <title>只有摘要的一条</title>
  <author>editor@example.com (钱七)</author>
  <pubDate>Thu, 02 May 2024 02:00:00 GMT</pubDate>
  <category>财经</category>
  <description>&lt;p&gt;市场平稳。&lt;/p&gt;</description>
</item>
<item><title>坏日期</title><pubDate>someday</pubDate><category>体育</category><description>正文</description></item>
</channel></rss>
"""


def test_rss_items_become_articles(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_text(RSS, encoding="utf-8")
    out = run(path)

    assert "新增 2 篇" in out and "日期无法识别或在未来: 1 — feed.xml item 3 (someday)" in out
    first = Article.objects.get(title="主队逆转取胜 & 晋级")
    assert first.body_html == "<p>下半场<em>连入两球</em>。</p>"
    assert first.account.name == "赵六" and first.channel.slug == "sports"
    assert list(first.tags.values_list("name", flat=True)) == ["足球"]
    assert first.published_at == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    second = Article.objects.get(title="只有摘要的一条")
    assert second.account.name == "钱七" and second.body_html == "<p>市场平稳。</p>"
    assert second.channel.slug == "finance"


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>科技观察</title><author><name>孙八</name></author>
  <entry>
    <title type="html">芯片&lt;b&gt;新进展&lt;/b&gt;</title><id>urn:uuid:1</id>
    <published>2024-04-30T12:00:00Z</published><updated>2024-05-01T12:00:00Z</updated>
    <category term="tech" label="科技"/>
    <content type="html">&lt;p&gt;新工艺量产。&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>第二条</title><id>urn:uuid:2</id><updated>2024-05-02T00:00:00+08:00</updated>
    <author><name>周九</name></author><category term="科技"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>一段<strong>加粗</strong>文字。</p></div></content>
  </entry>
</feed>
"""


def test_atom_entries_become_articles(tmp_path):
    path = tmp_path / "atom.xml"
    path.write_text(ATOM, encoding="utf-8")
    assert "新增 2 篇" in run(path)

    first = Article.objects.get(title="芯片新进展")
    assert first.account.name == "孙八" and first.channel.slug == "tech"
    assert first.body_html == "<p>新工艺量产。</p>"
    assert first.published_at == datetime(2024, 4, 30, 12, 0, tzinfo=UTC)
    second = Article.objects.get(title="第二条")
    assert second.account.name == "周九"
    assert second.body_html == "<p>一段<strong>加粗</strong>文字。</p>"
    assert second.published_at == datetime(2024, 5, 1, 16, 0, tzinfo=UTC)


WXR = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:author><wp:author_login><![CDATA[laowu]]></wp:author_login>
    <wp:author_display_name><![CDATA[吴老师]]></wp:author_display_name></wp:author>
  <item>
    <title>期末复习指南</title><dc:creator><![CDATA[laowu]]></dc:creator>
    <guid isPermaLink="false">https://blog.example/?p=1</guid>
    <content:encoded><![CDATA[第一段。

第二段
换行。]]></content:encoded>
    <wp:post_date><![CDATA[2024-01-10 20:00:00]]></wp:post_date>
    <wp:post_date_gmt><![CDATA[2024-01-10 12:00:00]]></wp:post_date_gmt>
    <wp:status><![CDATA[publish]]></wp:status><wp:post_type><![CDATA[post]]></wp:post_type>
    <category domain="category" nicename="study"><![CDATA[学习]]></category>
    <category domain="post_tag" nicename="exam"><![CDATA[考试]]></category>
  </item>
  <item><title>草稿</title><content:encoded><![CDATA[<p>未完成</p>]]></content:encoded>
    <wp:status>draft</wp:status><wp:post_type>post</wp:post_type>
    <wp:post_date_gmt>0000-00-00 00:00:00</wp:post_date_gmt></item>
  <item><title>关于本站</title><content:encoded><![CDATA[<p>页面</p>]]></content:encoded>
    <wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>
  <item><title>photo.jpg</title><wp:status>inherit</wp:status><wp:post_type>attachment</wp:post_type></item>
</channel></rss>
"""


def test_wordpress_export_imports_published_posts_only(tmp_path):
    path = tmp_path / "site.WordPress.2024-05-01.xml"
    path.write_text(WXR, encoding="utf-8")
    out = run(path, map="学习=education")

    assert "新增 1 篇，已存在跳过 0 篇，非文章忽略 3 条，拒绝 0 条。" in out
    post = Article.objects.get()
    assert post.title == "期末复习指南" and post.channel.slug == "education"
    assert post.account.name == "吴老师"
    assert post.body_html == "<p>第一段。</p><p>第二段<br>换行。</p>"
    assert post.published_at == datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
    assert list(post.tags.values_list("name", flat=True)) == ["考试"]


@pytest.mark.parametrize(
    ("doctype", "ref"),
    [
        ('<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>', "&b;"),
        ('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
    ],
)
def test_xml_with_entity_declarations_is_refused_whole(tmp_path, doctype, ref):
    path = tmp_path / "evil.xml"
    item = f"<item><title>{ref}</title><description>x</description><category>体育</category></item>"
    path.write_text(f'<?xml version="1.0"?>{doctype}<rss><channel>{item}</channel></rss>', encoding="utf-8")
    out = run(path)
    assert "XML 含有实体声明，已拒绝整个文件: 1 — evil.xml" in out
    assert not Article.objects.exists()


def test_broken_xml_is_refused_and_other_files_still_import(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item><title>没有闭合", encoding="utf-8")
    good = write_jsonl(tmp_path / "good.jsonl", [story(1)])
    out = run(broken, good)
    assert "XML 格式错误，已拒绝整个文件: 1 — broken.xml" in out
    assert "新增 1 篇" in out


def test_imported_articles_announce_themselves_to_the_indexes(tmp_path, django_capture_on_commit_callbacks):
    """Search and 相关推荐 listen to article_changed: every imported article must be sent once, published."""
    seen: list[tuple[int, str]] = []

    def receiver(sender, article, **kwargs):
        seen.append((article.pk, article.status))

    signals.article_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run(write_jsonl(tmp_path / "a.jsonl", [story(1), story(2)]))
    finally:
        signals.article_changed.disconnect(receiver)
    ids = sorted(Article.objects.values_list("pk", flat=True))
    assert sorted(seen) == [(pk, Article.Status.PUBLISHED) for pk in ids]


def test_bulk_mode_publishes_without_signals_and_counts_once(tmp_path, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, article, **kwargs):
        seen.append(article.pk)

    records = [story(n % 9 + 1, title=f"批量第{n}篇", author="张三" if n % 2 else "李四") for n in range(30)]
    signals.article_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            out = run(write_jsonl(tmp_path / "a.jsonl", records), bulk=True)
    finally:
        signals.article_changed.disconnect(receiver)
    assert "新增 30 篇" in out
    assert seen == []
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() == 30
    assert Account.objects.get(name="张三").article_count == 15
    assert "新增 0 篇，已存在跳过 30 篇" in run(tmp_path / "a.jsonl", bulk=True)


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    path = write_jsonl(tmp_path / "a.jsonl", [story(1), story(2)])
    call_command("import", str(path), stdout=io.StringIO(), progress=True)
    err = capsys.readouterr().err
    assert "2/2 100%" in err


def test_imported_articles_are_found_by_search_in_both_modes(tmp_path, django_capture_on_commit_callbacks):
    from masthead.discovery.search import search

    one = story(1, title="量子计算机实现新突破", text="研究团队公布了量子计算的最新成果。")
    two = story(2, title="湿地候鸟数量创新高", text="保护区观测到的候鸟数量比去年多了三成。")
    with django_capture_on_commit_callbacks(execute=True):
        run(write_jsonl(tmp_path / "one.jsonl", [one]))
        run(write_jsonl(tmp_path / "two.jsonl", [two]), bulk=True)

    assert [hit.article.title for hit in search("量子 计算").hits] == ["量子计算机实现新突破"]
    assert [hit.article.title for hit in search("候鸟").hits] == ["湿地候鸟数量创新高"]


def test_bulk_import_computes_related_articles(tmp_path, django_capture_on_commit_callbacks):
    from masthead.discovery.related import related_articles

    football = [
        ("主队客场两球取胜", "足球联赛第十轮，主队前锋梅开二度，门将扑出点球，客场球迷高唱队歌。"),
        ("点球大战 主队晋级杯赛八强", "杯赛点球大战，主队门将连扑两个点球，前锋罚进制胜一球，球迷涌上街头庆祝。"),
        ("新援前锋首秀破门", "冬窗引进的前锋首次登场就头球破门，主教练赛后称赞他的跑位，球迷期待联赛下半程。"),
        ("门将伤愈复出", "主力门将伤愈归队，主教练确认他将在周末联赛中首发，后防线有望重新稳固。"),
    ]
    stocks = [
        ("银行板块领涨股市", "沪深股市今日震荡，银行板块领涨，成交量较昨日放大，券商研报看好红利策略。"),
        ("消费股受基金青睐", "二季度基金经理加仓消费股，白酒与家电获资金流入，股市分析人士提示估值风险。"),
        ("券商股午后拉升", "午后券商板块集体拉升，股市成交额突破万亿，分析人士认为资金情绪回暖。"),
        ("基金发行回暖", "本月新发基金规模环比增长，权益类基金占比提高，基金经理看好银行与消费板块。"),
    ]
    records = [
        story(1, title=title, text=body, published=f"2024-05-0{n}T08:00:00+08:00")
        for n, (title, body) in enumerate(football + stocks, start=1)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        run(write_jsonl(tmp_path / "a.jsonl", records), bulk=True)

    source = Article.objects.get(title="主队客场两球取胜")
    # The newest articles are about stocks: only the content puts football stories first.
    titles = [a.title for a in related_articles(source, limit=3)]
    assert titles and set(titles) <= {title for title, _ in football}
