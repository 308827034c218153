"""The search index: SearchEntry everywhere, plus the engine's own structure per database.

SQLite: a contentless FTS5 table over pre-tokenized columns (our segmentation joined by spaces).
PostgreSQL: a tsvector column on SearchEntry with a GIN index.
"""

import django.db.models.deletion
from django.db import migrations, models

FTS_COLUMNS = "title_w, meta_w, body_w, title_g, meta_g, body_g"
# unicode61 splits on spaces and punctuation; tokenchars keep "s-300", "3.14", "c++", "c#" whole.
FTS_TOKENIZE = "unicode61 remove_diacritics 0 tokenchars '-.+#_'"


def create_engine_tables(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS discovery_search_fts USING fts5({FTS_COLUMNS}, "
            f"content='', tokenize=\"{FTS_TOKENIZE}\")"
        )
    elif vendor == "postgresql":
        schema_editor.execute("ALTER TABLE discovery_searchentry ADD COLUMN IF NOT EXISTS document tsvector")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS discovery_searchentry_document ON discovery_searchentry USING gin (document)"
        )


def drop_engine_tables(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS discovery_search_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS discovery_searchentry_document")
        schema_editor.execute("ALTER TABLE discovery_searchentry DROP COLUMN IF EXISTS document")


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_article_marks"),
        ("discovery", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "article",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="articles.article",
                    ),
                ),
                ("indexed_at", models.DateTimeField(auto_now=True)),
                ("payload", models.BinaryField(editable=False, null=True)),
            ],
            options={"verbose_name": "搜索索引", "verbose_name_plural": "搜索索引"},
        ),
        migrations.RunPython(create_engine_tables, drop_engine_tables, elidable=False),
    ]
