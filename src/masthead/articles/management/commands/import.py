"""`masthead import PATH...`: articles from JSON Lines, RSS/Atom or WordPress export files.

See docs/import.md. A progress bar goes to stderr (when it is a terminal, or with --progress), the
summary to stdout: imported, skipped as already there, and what was refused, grouped by reason.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from masthead.articles import importing
from masthead.articles.importing.common import DEFAULT_AUTHOR, ChannelChooser, Importer, parse_mapping

BULK_BATCH = 500  # items per transaction in bulk mode (SQLite writes far faster in batches)
SHOWN_LOCATIONS = 5


class Progress:
    """A one-line bar redrawn at most ten times a second; silent when disabled."""

    def __init__(self, total: int, stream: TextIO, *, enabled: bool) -> None:
        self.total, self.stream, self.enabled = max(total, 1), stream, enabled
        self.done, self.started, self.drawn = 0, time.monotonic(), 0.0

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self.drawn >= 0.1 or self.done == self.total):
            self.drawn = now
            share = self.done / self.total
            bar = "#" * int(share * 30)
            rate = self.done / max(now - self.started, 1e-6)
            self.stream.write(f"\r[{bar:<30}] {self.done}/{self.total} {share:4.0%} {rate:5.0f}/s")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


class Command(BaseCommand):
    help = "Import articles from JSON Lines, RSS/Atom or WordPress export (WXR) files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--map", default="", help='category → channel: "体育=sports,财经=finance" or a file')
        parser.add_argument("--channel", default="", help="put every article in this channel (slug)")
        parser.add_argument("--default-channel", default="", help="channel for categories nothing maps to")
        parser.add_argument("--default-author", default=DEFAULT_AUTHOR, help="account name for items without one")
        parser.add_argument(
            "--bulk",
            action="store_true",
            help="large files: no per-article signals; counts and discovery indexes are rebuilt once at the end",
        )
        parser.add_argument(
            "--progress", action=argparse.BooleanOptionalAction, default=None, help="force the bar on or off"
        )

    def handle(self, *args, paths: list[Path], **options) -> None:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(_("找不到文件：%(paths)s") % {"paths": ", ".join(missing)})
        try:
            mapping = parse_mapping(options["map"]) if options["map"] else {}
        except (ValueError, OSError) as error:
            raise CommandError(_("--map 格式应为“分类=频道标识”：%(line)s") % {"line": error}) from error
        try:
            chooser = ChannelChooser(mapping=mapping, channel=options["channel"], default=options["default_channel"])
        except ValueError as error:
            raise CommandError(_("没有这些频道：%(slugs)s") % {"slugs": error}) from error
        importer = Importer(chooser, bulk=options["bulk"], default_author=options["default_author"])
        entries = [entry for path in paths for entry in importing.read(path)]
        show = options["progress"] if options["progress"] is not None else sys.stderr.isatty()
        progress = Progress(len(entries), sys.stderr, enabled=show)
        step = BULK_BATCH if options["bulk"] else 1
        for start in range(0, len(entries), step):
            with transaction.atomic():
                for entry in entries[start : start + step]:
                    importer.add(entry)
                    progress.advance()
        progress.close()
        rebuilt = importer.finish()
        self.summarize(importer, rebuilt)

    def summarize(self, importer: Importer, rebuilt: list[str]) -> None:
        report = importer.report
        self.stdout.write(
            _("新增 %(imported)s 篇，已存在跳过 %(skipped)s 篇，非文章忽略 %(ignored)s 条，拒绝 %(refused)s 条。")
            % {
                "imported": report.imported,
                "skipped": report.skipped,
                "ignored": report.ignored,
                "refused": len(report.refused),
            }
        )
        if report.held:
            self.stdout.write(
                _("%(n)s 篇含需审核的词，已送编辑审核：%(where)s")
                % {"n": len(report.held), "where": _locations(report.held)}
            )
        if report.cleaned:
            self.stdout.write(
                _("%(n)s 篇含危险的 HTML（脚本、事件属性等），已清除后导入：%(where)s")
                % {"n": len(report.cleaned), "where": _locations(report.cleaned)}
            )
        groups = report.refusals_by_reason()
        if groups:
            self.stdout.write(_("拒绝的原因："))
        for reason, refusals in groups.items():
            where = _locations([r.location + (f" ({r.detail})" if r.detail else "") for r in refusals])
            self.stdout.write(f"  {reason}: {len(refusals)} — {where}")
        if rebuilt:
            self.stdout.write(_("已重建索引：%(names)s") % {"names": ", ".join(rebuilt)})


def _locations(locations: list[str]) -> str:
    shown = ", ".join(locations[:SHOWN_LOCATIONS])
    more = len(locations) - SHOWN_LOCATIONS
    return shown + (_(" 等 %(n)s 处") % {"n": len(locations)} if more > 0 else "")
