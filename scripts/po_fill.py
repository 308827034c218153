"""Fill or correct entries of a .po catalog from a JSON map {msgid: msgstr}, clearing their fuzzy flag.

Usage: python scripts/po_fill.py src/masthead/locale/en/LC_MESSAGES/django.po translations.json
Only entries without plural forms and without context are handled; gettext tools do the rest.
"""

import json
import re
import sys
from pathlib import Path


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _field(block: str, name: str) -> str | None:
    """The value of `msgid`/`msgstr` in a catalog entry, joining the continuation lines of wrapped strings."""
    match = re.search(rf'^{name} "(.*)"\n((?:".*"\n?)*)', block, re.M)
    if not match:
        return None
    parts = [match.group(1), *re.findall(r'^"(.*)"$', match.group(2), re.M)]
    raw = "".join(parts)
    return raw.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def main(po_path: str, json_path: str) -> None:
    wanted: dict[str, str] = json.loads(Path(json_path).read_text(encoding="utf-8"))
    blocks = Path(po_path).read_text(encoding="utf-8").split("\n\n")
    done = set()
    for i, block in enumerate(blocks):
        if "msgid_plural" in block or "msgctxt" in block:
            continue
        msgid = _field(block, "msgid")
        if msgid is not None and msgid in wanted:
            lines = [ln for ln in block.split("\n") if not ln.startswith("#|")]
            lines = [ln.replace("#, fuzzy, ", "#, ").replace("#, fuzzy", "") for ln in lines]
            head = [ln for ln in lines if ln.startswith("#") and ln.strip() != "#,"]
            blocks[i] = "\n".join([*head, f"msgid {quote(msgid)}", f"msgstr {quote(wanted[msgid])}"])
            done.add(msgid)
    Path(po_path).write_text("\n\n".join(blocks), encoding="utf-8")
    missing = set(wanted) - done
    if missing:
        print("not found:", ", ".join(sorted(missing)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
