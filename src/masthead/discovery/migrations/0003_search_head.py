"""PostgreSQL only: a small second tsvector, `head` (title + meta), with its own GIN index.

The title and meta candidate arms restricted lexemes by weight, which GIN cannot answer alone: every
match was rechecked against its tsvector, and on the full `document` that means detoasting the body's
tokens of every match (seconds for a common word at 100,000 articles). `head` holds only the title
and meta tokens, each lexeme tagged with its column instead of weighted, so GIN answers those arms
without a recheck (phrases excepted). Existing rows get their head from `document`; indexing writes
both from then on. A no-op on SQLite (FTS5 has per-column filters).
"""

from django.db import migrations

# Tags as in backends/postgres.py (HEAD_TAG): "T" title, "M" meta. In `document`: A title words,
# B title bigrams ("~" prefix) and meta words, C meta bigrams and body words, D body bigrams.
HEAD_FROM_DOCUMENT = r"""
UPDATE discovery_searchentry SET head = coalesce((
    SELECT string_agg(
        '''' || replace(replace(u.tag || u.lexeme, '\', '\\'), '''', '''''') || ''':'
        || array_to_string(u.positions, ','), ' ')
    FROM (
        SELECT 'T' AS tag, lexeme, positions FROM unnest(ts_filter(document, '{a}'))
        UNION ALL
        SELECT CASE WHEN left(lexeme, 1) = '~' THEN 'T' ELSE 'M' END, lexeme, positions
        FROM unnest(ts_filter(document, '{b}'))
        UNION ALL
        SELECT 'M', lexeme, positions FROM unnest(ts_filter(document, '{c}')) WHERE left(lexeme, 1) = '~'
    ) u
), '')::tsvector
WHERE document IS NOT NULL
"""


def add_head(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE discovery_searchentry ADD COLUMN IF NOT EXISTS head tsvector")
    # Keep the table's own pages narrow (ids and TOAST pointers): collecting a common word's matches
    # then reads a few hundred pages instead of every row's inline head.
    schema_editor.execute("ALTER TABLE discovery_searchentry SET (toast_tuple_target = 128)")
    schema_editor.execute(HEAD_FROM_DOCUMENT)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS discovery_searchentry_head ON discovery_searchentry USING gin (head)"
    )
    schema_editor.execute("ANALYZE discovery_searchentry")


def drop_head(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS discovery_searchentry_head")
    schema_editor.execute("ALTER TABLE discovery_searchentry DROP COLUMN IF EXISTS head")
    schema_editor.execute("ALTER TABLE discovery_searchentry RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("discovery", "0002_search_index")]

    operations = [migrations.RunPython(add_head, drop_head, elidable=False)]
