"""jieba vs rjieba on real Chinese news: speed, peak memory, agreement, user dictionary.

    .venv/bin/python bench/segmenters.py [path/to/thucnews_cnews_1000.jsonl]

Each segmenter runs in its own child process so peak memory (ru_maxrss) is its own. Reads the
evaluation data from ../shared/data (never shipped). Figures go in docs/search.md.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "zh-news-cls" / "thucnews_cnews_1000.jsonl"

CHILD = r"""
import json, resource, sys, time
name, path = sys.argv[1], sys.argv[2]
texts = []
with open(path, encoding="utf-8") as f:
    for line in f:
        row = json.loads(line)
        texts.append((row.get("title") or "") + "\n" + (row.get("text") or row.get("content") or row.get("body") or ""))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if name == "jieba":
    import jieba, logging
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    cut, search, add = jieba.lcut, jieba.lcut_for_search, lambda w: jieba.add_word(w)
else:
    import rjieba
    rjieba.cut("预热")
    cut, search, add = rjieba.cut, rjieba.cut_for_search, lambda w: rjieba.add_word(w, None, None)
load = time.perf_counter() - t0
t0 = time.perf_counter(); out = [cut(t) for t in texts]; precise = time.perf_counter() - t0
t0 = time.perf_counter(); [search(t) for t in texts]; fine = time.perf_counter() - t0
before = cut("秦岭云栈发布了新文章")
add("秦岭云栈")
after = cut("秦岭云栈发布了新文章")
chars = sum(len(t) for t in texts)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"name": name, "docs": len(texts), "chars": chars, "load_s": load, "precise_s": precise,
                  "search_s": fine, "peak_mb": peak / 1024, "delta_mb": (peak - base) / 1024,
                  "user_dict": "秦岭云栈" in after and "秦岭云栈" not in before, "tokens": out}, ensure_ascii=False))
"""


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not path.exists():
        sys.exit(f"no data at {path}")
    results = {}
    for name in ("jieba", "rjieba"):
        done = subprocess.run([sys.executable, "-c", CHILD, name, str(path)], capture_output=True, text=True)
        if done.returncode:
            sys.exit(done.stderr)
        results[name] = json.loads(done.stdout)
    a, b = results["jieba"]["tokens"], results["rjieba"]["tokens"]
    same_docs = sum(x == y for x, y in zip(a, b, strict=True))
    tok_a = sum(len(x) for x in a)
    print(f"{results['jieba']['docs']} articles, {results['jieba']['chars']:,} characters ({path.name})")
    print(f"{'':8} {'load s':>7} {'precise s':>10} {'chars/s':>11} {'search s':>9} {'peak MB':>8} {'+MB':>6} user-dict")
    for name, r in results.items():
        rate = r["chars"] / r["precise_s"]
        print(
            f"{name:8} {r['load_s']:7.2f} {r['precise_s']:10.2f} {rate:11,.0f} {r['search_s']:9.2f} "
            f"{r['peak_mb']:8.0f} {r['delta_mb']:6.0f} {r['user_dict']}"
        )
    speed = results["jieba"]["precise_s"] / results["rjieba"]["precise_s"]
    print(
        f"rjieba/jieba speed: {speed:.1f}x; identical segmentation in {same_docs}/{len(a)} articles ({tok_a:,} tokens)"
    )


if __name__ == "__main__":
    main()
