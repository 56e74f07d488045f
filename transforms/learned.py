"""The trained models shipped with the package, loaded once per process.

Each model is a LightGBM text model in ``transforms/data/<name>.txt`` with a JSON card
``<name>.json`` beside it (version, feature names, decision threshold, the numbers it
reached, how it was trained). ``bench/train_models.py`` writes both; nothing is
downloaded at run time. The feature order is checked against the card when a model
loads, so a model trained on other features fails loudly instead of scoring garbage.
"""
from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

DATA = Path(__file__).with_name("data")
_LOADING = threading.Lock()


class ModelMismatch(RuntimeError):
    """A shipped model was trained on other features than the code computes."""


@dataclass(frozen=True)
class Model:
    name: str
    card: dict
    booster: object  # lightgbm.Booster

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])

    def scores(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """Probabilities for feature rows (one row per candidate)."""
        if not rows:
            return []
        import numpy as np

        return self.booster.predict(np.asarray(rows, dtype=np.float64), num_threads=1).tolist()


def load_model(name: str, features: Sequence[str], data_dir: Path = DATA) -> Model:
    """Load ``<name>.txt`` and its card; ``features`` must equal the card's feature list."""
    with _LOADING:
        return _load(name, tuple(features), str(data_dir))


@functools.lru_cache(maxsize=8)
def _load(name: str, features: tuple[str, ...], data_dir: str) -> Model:
    import lightgbm

    card_path = Path(data_dir) / f"{name}.json"
    model_path = Path(data_dir) / f"{name}.txt"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if tuple(card["features"]) != features:
        raise ModelMismatch(f"{model_path} was trained on features {card['features']}, the code computes "
                            f"{list(features)}: retrain with bench/train_models.py")
    booster = lightgbm.Booster(model_str=model_path.read_text(encoding="utf-8"))
    return Model(name, card, booster)
