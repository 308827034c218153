from django.db import migrations

DEFAULT_CHANNELS = [
    ("头条", "top", "今日要闻与身边的公共话题"),
    ("军事", "military", "军事科普与历史"),
    ("体育", "sports", "运动、健身与赛事"),
    ("娱乐", "entertainment", "影视、音乐与文化生活"),
    ("财经", "finance", "理财、消费与经济常识"),
    ("科技", "tech", "科技新知与互联网"),
    ("汽车", "auto", "用车、养车与出行"),
    ("教育", "education", "学习、家庭教育与终身学习"),
    ("时尚", "fashion", "穿搭与生活方式"),
    ("数码", "digital", "手机、电脑与数码产品"),
    ("艺术", "art", "书画、摄影与手工艺"),
    ("旅游", "travel", "旅行攻略与行走见闻"),
]


def create_channels(apps, schema_editor):
    Channel = apps.get_model("channels", "Channel")
    for order, (name, slug, description) in enumerate(DEFAULT_CHANNELS, start=1):
        Channel.objects.get_or_create(
            slug=slug, defaults={"name": name, "order": order * 10, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [("channels", "0001_initial")]
    operations = [migrations.RunPython(create_channels, migrations.RunPython.noop)]
