"""A replay must not add the same reject or duplicate twice: drop the rows an earlier run
already wrote (their keys: transforms/rows.py `reject_key`, `record_key`)."""
from __future__ import annotations

import apache_beam as beam


class DropSeen(beam.PTransform):
    """Rows of this run -> those whose ``key`` no ``history`` row has (one per key)."""

    def __init__(self, history, key):
        super().__init__()
        self._history, self._key = history, key

    def expand(self, rows):
        key = self._key
        keyed = rows | "KeyRow" >> beam.Map(lambda r: (key(r), r))
        seen = self._history | "KeySeen" >> beam.Map(lambda r: (key(r), True))
        return ({"run": keyed, "seen": seen}
                | "JoinSeen" >> beam.CoGroupByKey()
                | "Unseen" >> beam.FlatMap(lambda kv: [] if kv[1]["seen"] else list(kv[1]["run"])[:1]))
