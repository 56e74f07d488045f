"""The English pre-check before lingua (transforms/language.py ``plainly_english``): same answers
as lingua alone, text by text, and the CPU it saves.

    .venv/bin/python bench/language_precheck.py [--repeats 3]

Texts as the pipeline sees them (``clean_text`` of the entry body the article is made from), from
input nobody on the team wrote: the 2,225 BBC articles (body, and title + body), every entry of
the 200 real feeds (``../shared/data/feeds``) and of the feedparser test documents (bodies and
titles), and the PolNeAR documents (train + dev). For each text: lingua alone (the code before the
pre-check) and ``detect_language`` (pre-check, then lingua) must give the same language; any text
where they differ is printed. Then the CPU (``time.process_time``, median of ``--repeats``
passes) of both over the BBC bodies, the texts of a run of the e2e benchmark.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, load_bbc, median  # noqa: E402

SHARED = ROOT / ".." / "shared" / "data"


def feed_texts(path: Path, source: str) -> list[tuple[str, str]]:
    from connectors.feeds.normalizer import FeedContext, normalize_entry
    from connectors.feeds.parse import parse_feed
    from transforms.article import article_body
    from transforms.text import clean_text

    out = []
    try:
        parsed = parse_feed(path.read_bytes(), {}, "http://example.com/feed")
    except Exception:  # a document the poller rejects has no entries to detect
        return out
    ctx = FeedContext.of(parsed, "http://example.com/feed", "http://example.com/feed", datetime.now(timezone.utc))
    for i, entry in enumerate(parsed.entries):
        try:
            item = normalize_entry(entry, item_id=f"e{i}", url="", feed=ctx)
        except Exception:
            continue
        body, is_html = article_body(item)
        out.append((source, clean_text(body, is_html=is_html)))
        out.append((source + " titles", item.title))
    return out


def corpus() -> list[tuple[str, str]]:
    from transforms.text import clean_text

    texts = []
    for doc in load_bbc():
        texts.append(("bbc", clean_text(doc.body, is_html=False)))
        texts.append(("bbc title+body", clean_text(f"{doc.title}\n\n{doc.body}", is_html=False)))
    for path in sorted((SHARED / "feeds").iterdir()):
        if path.name != "manifest.tsv":
            texts += feed_texts(path, "real feeds")
    for path in sorted((SHARED / "feedparser-tests").rglob("*")):
        if path.is_file():
            texts += feed_texts(path, "feedparser tests")
    for path in sorted((SHARED / "polnear").rglob("*.txt")):
        texts.append(("polnear", path.read_text(errors="replace")))
    return texts


def lingua_alone(text: str, detect) -> str | None:
    """detect_language as it was before the pre-check."""
    from transforms.language import DETECT_CHARS, MIN_LETTERS

    sample = (text or "")[:DETECT_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    found = detect.detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found is not None else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from transforms.language import DETECT_CHARS, detect_language, detector, plainly_english

    detect = detector()
    texts = corpus()
    print("| source | texts | answered by the pre-check | lingua's answers | differences |")
    print("|---|---:|---:|---|---:|")
    by_source: dict[str, list[str]] = {}
    for source, text in texts:
        by_source.setdefault(source, []).append(text)
    total_diff = 0
    for source, group in by_source.items():
        diffs, fast, answers = 0, 0, Counter()
        for text in group:
            before, after = lingua_alone(text, detect), detect_language(text, detect)
            sample = text[:DETECT_CHARS]
            fast += plainly_english(sample, sum(ch.isalpha() for ch in sample))
            answers[before] += 1
            if before != after:
                diffs += 1
                print(f"DIFFERENT ({source}): lingua {before}, now {after}: {text[:120]!r}")
        total_diff += diffs
        top = ", ".join(f"{k}: {v}" for k, v in answers.most_common(6))
        print(f"| {source} | {len(group)} | {fast} | {top} | {diffs} |")
    print(f"differences in all {len(texts)} texts: {total_diff}")

    bbc = by_source["bbc"]
    timings = {"lingua alone": [], "pre-check, then lingua": []}
    for _ in range(args.repeats):
        for name, fn in (("lingua alone", lingua_alone), ("pre-check, then lingua", detect_language)):
            start = time.process_time()
            for text in bbc:
                fn(text, detect)
            timings[name].append(time.process_time() - start)
    base = median(timings["lingua alone"])
    for name, runs in timings.items():
        print(f"{name}: {median(runs):.2f} s CPU for {len(bbc)} BBC articles "
              f"({median(runs) / len(bbc) * 1000:.2f} ms each; runs {', '.join(f'{r:.2f}' for r in runs)}); "
              f"lingua alone / this = {base / median(runs):.1f}")


if __name__ == "__main__":
    main()
