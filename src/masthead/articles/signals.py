"""Signals other apps listen to (search index, 相关推荐, hot list) without the workflow knowing them."""

from django.dispatch import Signal

# Sent after the commit of any change that alters what readers may see of an article: publish, edit,
# removal, restore, a published article sent back to review, an editor's mark. Argument: `article`.
# Receivers check `article.status` themselves (a removed article must leave indexes at once).
article_changed = Signal()
