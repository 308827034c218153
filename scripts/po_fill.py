"""Fill or correct entries of a .po catalog from a JSON map {msgid: msgstr}, clearing their fuzzy flag.

Usage: python scripts/po_fill.py src/masthead/locale/en/LC_MESSAGES/django.po translations.json
Only entries without plural forms and without context are handled; gettext tools do the rest.
"""

import json
import re
import sys


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(po_path: str, json_path: str) -> None:
    wanted: dict[str, str] = json.load(open(json_path, encoding="utf-8"))
    blocks = open(po_path, encoding="utf-8").read().split("\n\n")
    done = set()
    for i, block in enumerate(blocks):
        match = re.search(r'^msgid "(.*)"\nmsgstr "(.*)"$', block, re.M | re.S)
        if not match or "msgid_plural" in block or "msgctxt" in block:
            continue
        msgid = match.group(1).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if msgid in wanted:
            lines = [ln for ln in block.split("\n") if not ln.startswith("#|")]
            lines = [ln.replace("#, fuzzy, ", "#, ").replace("#, fuzzy", "") for ln in lines]
            lines = [ln for ln in lines if ln.strip() != ""]
            head = [ln for ln in lines if ln.startswith("#")]
            blocks[i] = "\n".join([*head, f"msgid {quote(msgid)}", f"msgstr {quote(wanted[msgid])}"])
            done.add(msgid)
    open(po_path, "w", encoding="utf-8").write("\n\n".join(blocks))
    missing = set(wanted) - done
    if missing:
        print("not found:", ", ".join(sorted(missing)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
