"""Receivers that keep text analysis and the search index current.

- A saved channel, tag or creator account teaches the segmenter its name (no query needed) and
  refreshes the names search suggests.
- article_changed (after commit of publish, edit, removal, restore, marks) updates the search index.
- A deleted article leaves the index (its FTS row is not covered by the database's cascade).

Connected on import; discovery/apps.py imports this module in ready(). Imports of models are lazy so
that this module can be imported while the app registry loads.
"""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from masthead.articles.signals import article_changed


@receiver(post_save, sender="channels.Channel", dispatch_uid="text_learn_channel")
@receiver(post_save, sender="articles.Tag", dispatch_uid="text_learn_tag")
@receiver(post_save, sender="accounts.Account", dispatch_uid="text_learn_account")
def learn_name(sender, instance, **kwargs) -> None:
    from masthead.discovery.search import names
    from masthead.discovery.text import add_words

    add_words([instance.name])
    if sender.__name__ != "Tag":
        names.invalidate()  # search suggestions (this process; others within a minute)


@receiver(article_changed, dispatch_uid="search_index_article")
def index_changed_article(sender, article, **kwargs) -> None:
    from masthead.discovery.indexing import on_article_changed

    on_article_changed(sender, article=article)


@receiver(pre_delete, sender="articles.Article", dispatch_uid="search_unindex_deleted")
def unindex_deleted_article(sender, instance, **kwargs) -> None:
    from masthead.discovery.indexing import unindex_article

    unindex_article(instance.pk)
