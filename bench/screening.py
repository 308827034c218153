"""Screening benchmark: 10,000 comments against 10,000 sensitive terms.

    .venv/bin/python bench/screening.py                     # what `make bench` runs
    .venv/bin/python bench/screening.py --terms 50000 --comments 20000

Terms are 2–4 character pieces cut from real headlines (../shared/data/zh-news-cls, when present;
synthetic text otherwise), so many of them do occur in the comments: a harder case than a real
list, whose words are rare. Comments are other headlines, one in five disguised the way evaders do
(full-width letters, spaces, punctuation and zero-width characters between the characters).

The terms go into the database in a transaction that is rolled back at the end, so the run leaves
MASTHEAD_DATA_DIR (var/bench by default) as it found it. Measured:

- build: reading the list from the database and building the Aho-Corasick automaton (what each
  app server does after the list changes), and its memory (the automaton's own count of bytes,
  and the growth of the process's resident set);
- screening every comment through ``screening.screen`` (folding, matching, offsets, word
  boundaries): total, mean, p50/p99 per comment, comments per second;
- one 1 MB text;
- for scale, the naive way (``term in text`` for every term) on a sample of the comments.

Prints a table; the numbers also go to $MASTHEAD_DATA_DIR/bench-screening.json.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"

import django  # noqa: E402

django.setup()

import ahocorasick  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from masthead.moderation import screening  # noqa: E402
from masthead.moderation.models import SensitiveTerm  # noqa: E402

HEADLINES = ROOT.parent / "shared" / "data" / "zh-news-cls" / "nlpcc2017_headlines_36000.jsonl"
DISGUISES = [" ", "，", "*", "·", "_", "-", "\u200b", "\n", "。 "]


class Rollback(Exception):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def headlines() -> tuple[list[str], str]:
    if HEADLINES.exists():
        with HEADLINES.open(encoding="utf-8") as f:
            return [json.loads(line)["title"] for line in f if line.strip()], str(HEADLINES.relative_to(ROOT.parent))
    rng = random.Random(1)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3500)]
    return ["".join(rng.choices(hanzi, k=rng.randint(12, 30))) for _ in range(36_000)], "synthetic"


def make_terms(texts: list[str], n: int, rng: random.Random) -> list[str]:
    chosen: set[str] = set()
    while len(chosen) < n:
        text = rng.choice(texts)
        size = rng.randint(2, 4)
        if len(text) < size:
            continue
        start = rng.randrange(len(text) - size + 1)
        key = screening.normalise_term(text[start : start + size])
        if len(key) >= 2:
            chosen.add(key)
    return sorted(chosen)


def disguise(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        if "a" <= ch.lower() <= "z" and rng.random() < 0.5:
            ch = chr(ord(ch) + 0xFEE0)  # full-width
        out.append(ch)
        if rng.random() < 0.4:
            out.append(rng.choice(DISGUISES))
    return "".join(out)


def run(n_terms: int, n_comments: int, naive_sample: int) -> dict:
    rng = random.Random(20261125)
    texts, source = headlines()
    rng.shuffle(texts)
    half = len(texts) // 2
    terms = make_terms(texts[:half], n_terms, rng)
    comments = [disguise(t, rng) if rng.random() < 0.2 else t for t in (texts[half:] * 2)[:n_comments]]
    results: dict = {
        "terms": len(terms),
        "comments": len(comments),
        "source": source,
        "comment_chars_mean": statistics.mean(map(len, comments)),
    }

    call_command("migrate", verbosity=0)
    try:
        with transaction.atomic():
            SensitiveTerm.objects.all().delete()
            actions = ["block" if i % 5 == 0 else "review" for i in range(len(terms))]
            SensitiveTerm.objects.bulk_create(
                (SensitiveTerm(term=t, action=a) for t, a in zip(terms, actions, strict=True)), batch_size=2000
            )
            screening.reset()
            rss_before = rss_kib()
            started = time.perf_counter()
            compiled = screening._current()
            results["build_ms"] = (time.perf_counter() - started) * 1000
            results["automaton_bytes"] = compiled.automaton.get_stats()["total_size"]
            results["rss_growth_kib"] = rss_kib() - rss_before
            assert compiled.size == len(terms)

            screening.screen("预热")  # fold cache for the common characters, as in a running server
            per_comment = []
            counts = {"allow": 0, "review": 0, "block": 0}
            matches = 0
            started = time.perf_counter()
            for comment in comments:
                t0 = time.perf_counter()
                result = screening.screen(comment)
                per_comment.append(time.perf_counter() - t0)
                counts[result.action] += 1
                matches += len(result.matches)
            total = time.perf_counter() - started
            per_comment.sort()
            results |= {
                "screen_total_ms": total * 1000,
                "per_comment_mean_us": total / len(comments) * 1e6,
                "per_comment_p50_us": per_comment[len(per_comment) // 2] * 1e6,
                "per_comment_p99_us": per_comment[int(len(per_comment) * 0.99)] * 1e6,
                "comments_per_second": len(comments) / total,
                "outcomes": counts,
                "matches": matches,
            }

            big = "，".join(texts)
            while len(big.encode()) < 1_000_000:
                big += "，" + big
            big = big.encode()[:1_000_000].decode(errors="ignore")  # 1 MB of real headlines
            started = time.perf_counter()
            found = screening.screen(big)
            results["one_megabyte_ms"] = (time.perf_counter() - started) * 1000
            results["one_megabyte_matches"] = len(found.matches)

            sample = comments[:naive_sample]
            started = time.perf_counter()
            for comment in sample:
                lowered = comment.lower()
                _hits = [t for t in terms if t in lowered]
            naive = time.perf_counter() - started
            results["naive_per_comment_us"] = naive / len(sample) * 1e6
            results["naive_sample"] = len(sample)
            raise Rollback
    except Rollback:
        pass
    screening.reset()
    results["environment"] = {
        "python": platform.python_version(),
        "pyahocorasick": getattr(ahocorasick, "__version__", "?"),
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "cpus": os.cpu_count(),
    }
    return results


def table(r: dict) -> str:
    rows = [
        ("terms / comments", f"{r['terms']:,} / {r['comments']:,} (mean {r['comment_chars_mean']:.0f} chars)"),
        ("text source", r["source"]),
        ("build (database + automaton)", f"{r['build_ms']:.0f} ms"),
        (
            "automaton memory",
            f"{r['automaton_bytes'] / 2**20:.1f} MiB (process RSS +{r['rss_growth_kib'] / 1024:.1f} MiB)",
        ),
        ("screen all comments", f"{r['screen_total_ms']:.0f} ms ({r['comments_per_second']:,.0f} comments/s)"),
        (
            "per comment",
            f"mean {r['per_comment_mean_us']:.1f} µs, p50 {r['per_comment_p50_us']:.1f} µs, "
            f"p99 {r['per_comment_p99_us']:.1f} µs",
        ),
        ("outcomes", ", ".join(f"{k} {v:,}" for k, v in r["outcomes"].items()) + f"; {r['matches']:,} matches"),
        ("one 1 MB text", f"{r['one_megabyte_ms']:.0f} ms ({r['one_megabyte_matches']:,} matches)"),
        (
            "naive `term in text`",
            f"{r['naive_per_comment_us']:,.0f} µs per comment "
            f"({r['naive_per_comment_us'] / r['per_comment_mean_us']:,.0f}× slower; {r['naive_sample']} sampled)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    args = parser.parse_args()
    log(f"Screening {args.comments:,} comments against {args.terms:,} terms…")
    results = run(args.terms, args.comments, args.naive_sample)
    print(table(results))
    out = Path(settings.DATA_DIR) / "bench-screening.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    log(f"Results: {out}")


if __name__ == "__main__":
    main()
