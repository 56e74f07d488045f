"""Peak memory of the NLP step on one huge article, with and without `nlp.max_chars`.

Each measurement is a fresh child process that loads the spaCy model, extracts quotes and
entities from one article the way a pipeline worker does (`extract_documents` with the
pipeline's batch and character budgets) and reports its own peak RSS (`ru_maxrss`). The
article is BBC articles joined as paragraphs until it reaches `--chars` characters (real text,
so the parser does real work); `baseline` is one ordinary BBC article, for the model's own cost.

    .venv/bin/python bench/nlp_memory.py [--chars 1000000] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import BBC  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from transforms.extract import extract_documents
from transforms.nlp import DEFAULT_BATCH_CHARS, load_nlp
text = open({path!r}, encoding="utf-8").read()
max_chars = {max_chars!r}
nlp = load_nlp()
t0 = time.perf_counter()
[result] = extract_documents([("doc", text, None)], nlp=nlp, batch_size=64,
                             batch_chars=DEFAULT_BATCH_CHARS, max_chars=max_chars)
print(json.dumps({{"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "seconds": time.perf_counter() - t0, "quotes": len(result.quotes),
                   "truncated": result.nlp_truncated}}))
"""


def article(chars: int) -> str:
    paragraphs = []
    total = 0
    for path in sorted(BBC.glob("*/*.txt")):
        body = path.read_text(encoding="utf-8", errors="replace").strip()
        paragraphs.append(body)
        total += len(body) + 2
        if total >= chars:
            break
    return "\n\n".join(paragraphs)[:chars]


def measure(path: Path, max_chars: int | None) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path), max_chars=max_chars)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="/tmp/newsbeam-bench-nlp-memory")
    args = parser.parse_args()
    from transforms.nlp import DEFAULT_MAX_CHARS

    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    big, small = work / "big.txt", work / "small.txt"
    big.write_text(article(args.chars), encoding="utf-8")
    small.write_text(article(3000), encoding="utf-8")
    cases = [("baseline (one 3k article)", small, DEFAULT_MAX_CHARS),
             (f"{args.chars:,} chars, max_chars {DEFAULT_MAX_CHARS:,} (default)", big, DEFAULT_MAX_CHARS),
             (f"{args.chars:,} chars, no cap (before)", big, None)]
    results: dict[str, list[dict]] = {name: [] for name, _, _ in cases}
    for _ in range(args.runs):  # interleaved, so a noisy minute does not hit one case only
        for name, path, cap in cases:
            results[name].append(measure(path, cap))
    for name, runs in results.items():
        peak = statistics.median(r["peak_rss_mb"] for r in runs)
        secs = statistics.median(r["seconds"] for r in runs)
        print(f"{name:45s} peak RSS median {peak:7.0f} MB (of {[round(r['peak_rss_mb']) for r in runs]}), "
              f"NLP {secs:6.1f} s, quotes {runs[0]['quotes']}, truncated {runs[0]['truncated']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
