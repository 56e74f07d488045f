"""Dump the extraction JSON of BBC articles and PolNeAR dev, to prove a speed-up changes no output.

Writes one ``newsbeam extract`` line (``DocumentExtraction.to_json``) per document, for each
reported-speech policy asked, in a fixed order; run it before and after a change and ``cmp``
the two files (0 differences = same output).

    .venv/bin/python bench/extraction_dump.py --articles 600 --out /tmp/before.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.extract import load_articles  # noqa: E402
from transforms.evaluation import DEFAULT_POLNEAR, load_split  # noqa: E402
from transforms.extract import extract_documents  # noqa: E402
from transforms.nlp import load_nlp  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=600, help="BBC articles (count/5 per category)")
    parser.add_argument("--split", default="dev", help="PolNeAR split added after the BBC articles")
    parser.add_argument("--policies", nargs="+", default=["sources", "all"])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    docs = [(f"bbc/{i}", text, None) for i, text in enumerate(load_articles(args.articles))]
    docs += [(f"polnear/{g.name}", g.text, g.date) for g in load_split(DEFAULT_POLNEAR, args.split)]
    nlp = load_nlp()
    lines = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for policy in args.policies:
            for result in extract_documents(iter(docs), nlp=nlp, batch_size=args.batch_size,
                                            reported_speech=policy):
                out.write(json.dumps({"policy": policy, **result.to_json()}, ensure_ascii=False, sort_keys=True) + "\n")
                lines += 1
    print(f"{lines} lines ({len(docs)} documents x {len(args.policies)} policies) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
