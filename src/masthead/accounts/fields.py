"""Creator fields (领域). Regulated fields need a verified qualification to publish in them."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class CreatorField:
    slug: str
    name: object  # lazy translation
    regulated: bool = False


FIELDS: tuple[CreatorField, ...] = (
    CreatorField("current-affairs", _("时政"), regulated=True),
    CreatorField("finance", _("财经"), regulated=True),
    CreatorField("health", _("医疗健康"), regulated=True),
    CreatorField("law", _("法律"), regulated=True),
    CreatorField("society", _("社会民生")),
    CreatorField("military", _("军事科普")),
    CreatorField("sports", _("体育健身")),
    CreatorField("culture", _("影视文化")),
    CreatorField("tech", _("科技")),
    CreatorField("auto", _("汽车")),
    CreatorField("education", _("教育")),
    CreatorField("fashion", _("时尚生活")),
    CreatorField("digital", _("数码")),
    CreatorField("art", _("艺术")),
    CreatorField("travel", _("旅游")),
)
BY_SLUG = {f.slug: f for f in FIELDS}
CHOICES = [(f.slug, f.name) for f in FIELDS]
# Channels whose articles fall in a regulated field whatever the author's own field.
REGULATED_CHANNELS = {"finance": "finance", "top": "current-affairs"}


def is_regulated(slug: str) -> bool:
    field = BY_SLUG.get(slug)
    return bool(field and field.regulated)


def display(slug: str) -> str:
    """The field's name, or the stored text for accounts created before fields were a list."""
    field = BY_SLUG.get(slug)
    return str(field.name) if field else slug
