"""Fill or correct entries of a .po catalog from a JSON map {msgid: msgstr}, clearing their fuzzy flag.

Usage: python scripts/po_fill.py src/masthead/locale/en/LC_MESSAGES/django.po translations.json...
Keys are msgids, or "context|msgid" for entries with a msgctxt; a value is the msgstr, or a list
[singular, plural] for entries with plural forms.
"""

import json
import re
import sys
from pathlib import Path


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _field(block: str, name: str) -> str | None:
    """The value of `msgid`/`msgstr` in a catalog entry, joining the continuation lines of wrapped strings."""
    match = re.search(rf'^{name} "(.*)"\n?((?:".*"\n?)*)', block, re.M)
    if not match:
        return None
    parts = [match.group(1), *re.findall(r'^"(.*)"$', match.group(2), re.M)]
    raw = "".join(parts)
    return raw.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def _entry(head: list[str], context: str | None, msgid: str, block: str, value: str | list[str]) -> str:
    lines = [*head]
    if context is not None:
        lines.append(f"msgctxt {quote(context)}")
    lines.append(f"msgid {quote(msgid)}")
    if isinstance(value, list):
        lines.append(f"msgid_plural {quote(_field(block, 'msgid_plural') or msgid)}")
        lines += [f"msgstr[{n}] {quote(text)}" for n, text in enumerate(value)]
    else:
        lines.append(f"msgstr {quote(value)}")
    return "\n".join(lines)


def main(po_path: str, *json_paths: str) -> None:
    wanted: dict[str, str | list[str]] = {}
    for json_path in json_paths:
        wanted.update(json.loads(Path(json_path).read_text(encoding="utf-8")))
    blocks = Path(po_path).read_text(encoding="utf-8").split("\n\n")
    done = set()
    for i, block in enumerate(blocks):
        msgid = _field(block, "msgid")
        if not msgid:
            continue
        context = _field(block, "msgctxt")
        key = msgid if context is None else f"{context}|{msgid}"
        value = wanted.get(key)
        if value is None or isinstance(value, list) != ("msgid_plural" in block):
            continue
        lines = [ln for ln in block.split("\n") if not ln.startswith("#|")]
        lines = [ln.replace("#, fuzzy, ", "#, ").replace("#, fuzzy", "") for ln in lines]
        head = [ln for ln in lines if ln.startswith("#") and ln.strip() != "#,"]
        blocks[i] = _entry(head, context, msgid, block, value)
        done.add(key)
    Path(po_path).write_text("\n\n".join(blocks), encoding="utf-8")
    missing = set(wanted) - done
    if missing:
        print("not found:", ", ".join(sorted(missing)))


if __name__ == "__main__":
    main(*sys.argv[1:])
