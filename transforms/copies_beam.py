"""Beam wrapper of transforms/copies.py: extraction once per distinct text in a run."""
from __future__ import annotations

import apache_beam as beam

from transforms.copies import FOLLOW, copy_extraction, exact_text_key, follow_or_extract
from transforms.outputs import WithOutputs

DONE, COPIES, FAILED = "done", "copies", "failed"


class ExtractOncePerText(beam.PTransform):
    """Deduplicated articles -> {"done": lists of extracted articles (one per NLP batch),
    "copies": exact copies carrying their original's extraction, "failed": (article, reason) the
    extraction set aside}.

    ``extract``: a PTransform from articles to outputs ``done`` (lists of articles) and
    ``failed`` (e.g. transforms.language_beam.ExtractPerLanguage, which also spreads the texts
    evenly over the workers before the expensive step: BatchByBudget groups them).
    """

    def __init__(self, extract: beam.PTransform):
        super().__init__()
        self._extract = extract

    def expand(self, articles):
        primary = articles | "Primary" >> beam.Filter(lambda a: a.get("dup_kind") != "exact")
        copies = articles | "ExactCopies" >> beam.Filter(lambda a: a.get("dup_kind") == "exact")
        split = ({"primary": primary | "PrimaryIds" >> beam.Map(lambda a: (a["item_id"], exact_text_key(a))),
                  "copies": copies | "ByOriginal" >> beam.Map(lambda a: (a["duplicate_of"], a))}
                 # (original item_id, {primary: [text key]|[], copies: [copy, ...]})
                 | "JoinOriginal" >> beam.CoGroupByKey()
                 | "FollowOrExtract" >> WithOutputs(follow_or_extract, FOLLOW, main="orphans"))
        to_extract = (primary, split["orphans"]) | "ToExtract" >> beam.Flatten()
        extracted = to_extract | "Extract" >> self._extract
        done, failed = extracted[DONE], extracted[FAILED]
        extraction = done | "ExtractionById" >> beam.FlatMap(lambda batch: [
            (a["item_id"], {"quotes": a.get("quotes") or [], "entities": a.get("entities") or [],
                            "nlp_truncated": a.get("nlp_truncated")})
            for a in batch])
        followers = ({"done": extraction, "follow": split[FOLLOW]}
                     # (original item_id, {done: [{quotes, entities, nlp_truncated}], follow: [copy, ...]})
                     | "JoinExtraction" >> beam.CoGroupByKey()
                     | "CopyExtraction" >> beam.FlatMap(copy_extraction))
        return {DONE: done, COPIES: followers, FAILED: failed}
