"""Beam wrapper of transforms/copies.py: extraction once per distinct text in a run."""
from __future__ import annotations

import apache_beam as beam

from transforms.copies import FOLLOW, copy_extraction, exact_text_key, follow_or_extract

DONE, COPIES, FAILED = "done", "copies", "failed"


class ExtractOncePerText(beam.PTransform):
    """Deduplicated articles -> {"done": extracted articles, "copies": exact copies carrying
    their original's extraction, "failed": (article, reason) the extraction set aside}.

    ``extract``: a PTransform from articles to outputs ``done`` and ``failed`` (e.g.
    transforms.language_beam.ExtractPerLanguage), or None to skip NLP.
    """

    def __init__(self, extract: beam.PTransform | None):
        super().__init__()
        self._extract = extract

    def expand(self, articles):
        primary = articles | "Primary" >> beam.Filter(lambda a: a.get("dup_kind") != "exact")
        copies = articles | "ExactCopies" >> beam.Filter(lambda a: a.get("dup_kind") == "exact")
        split = ({"primary": primary | "PrimaryIds" >> beam.Map(lambda a: (a["item_id"], exact_text_key(a))),
                  "copies": copies | "ByOriginal" >> beam.Map(lambda a: (a["duplicate_of"], a))}
                 # (original item_id, {primary: [text key]|[], copies: [copy, ...]})
                 | "JoinOriginal" >> beam.CoGroupByKey()
                 | "FollowOrExtract" >> beam.FlatMap(follow_or_extract).with_outputs(FOLLOW, main="orphans"))
        to_extract = ((primary, split.orphans) | "ToExtract" >> beam.Flatten()
                      # Spread the texts evenly over the workers before the expensive step: without
                      # a shuffle here the DirectRunner hands each worker whole chunks of the
                      # upstream output (one worker got 218 texts, the other 895 in a
                      # half-duplicated run).
                      | "SpreadForNlp" >> beam.Reshuffle())
        if self._extract is not None:
            extracted = to_extract | "Extract" >> self._extract
            done, failed = extracted[DONE], extracted[FAILED]
        else:
            done, failed = to_extract, articles.pipeline | "NoNlpFailures" >> beam.Create([])
        extraction = done | "ExtractionById" >> beam.Map(
            lambda a: (a["item_id"], {"quotes": a.get("quotes") or [], "entities": a.get("entities") or []}))
        followers = ({"done": extraction, "follow": split[FOLLOW]}
                     # (original item_id, {done: [{quotes, entities}], follow: [copy, ...]})
                     | "JoinExtraction" >> beam.CoGroupByKey()
                     | "CopyExtraction" >> beam.FlatMap(copy_extraction))
        return {DONE: done, COPIES: followers, FAILED: failed}
