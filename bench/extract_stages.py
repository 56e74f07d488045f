"""CPU ms per article of each stage of ``extract_doc`` on already-parsed BBC articles.

Each stage function is wrapped with ``time.process_time`` (no cProfile: its per-call cost
would inflate the many small Python calls); medians over the passes. Run a checkout's own copy
to compare two commits on the same machine state (copy it into the other checkout; alternate them):

    .venv/bin/python bench/extract_stages.py [articles=400] [passes=3]
"""
import inspect
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.extract import load_articles
import transforms.extract as E
from transforms.extraction_models import ExtractionModels
from transforms.nlp import load_nlp
from transforms import extraction_models as XM
n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
texts = load_articles(n)
nlp = load_nlp()
docs = list(nlp.pipe(texts, batch_size=32))
models = ExtractionModels.default()
acc = {}
def wrap(mod, name, label):
    f = getattr(mod, name)
    def g(*a, **k):
        t = time.process_time()
        try:
            return f(*a, **k)
        finally:
            acc[label] = acc.get(label, 0.0) + time.process_time() - t
    setattr(mod, name, g)
wrap(E, "paragraph_bounds", "paragraphs")
wrap(E, "find_mentions", "mentions")
wrap(E, "article_roles", "roles")
wrap(E, "find_attributions_and_rest", "rules")
wrap(XM, "quote_candidates", "quote candidates")
wrap(XM, "reported_candidates", "reported candidates")
# the learned layer calls what it imported: wrap the names in its own module
wrap(XM, "speaker_work" if hasattr(XM, "speaker_work") else "speaker_groups", "speaker candidates")
from transforms.learned import Model
orig = Model.scores
def scores(self, rows):
    t = time.process_time()
    try: return orig(self, rows)
    finally: acc["lgbm " + self.name] = acc.get("lgbm " + self.name, 0.0) + time.process_time() - t
Model.scores = scores
wrap(E, "SpeakerResolver", "resolver init")
wrap(E, "speaker_role", "speaker_role")
wrap(E, "statement_id", "statement_id")
wrap(E, "summarise", "summarise")
wrap(E, "find_quote_spans", "quote spans")
res = {}
extra = (lambda i: {"text": texts[i]}) if "text" in inspect.signature(E.extract_doc).parameters else (lambda i: {})
for rep in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3):
    acc.clear()
    t = time.process_time()
    for i, d in enumerate(docs): E.extract_doc(str(i), d, models=models, **extra(i))
    total = time.process_time() - t
    for k, v in acc.items(): res.setdefault(k, []).append(1000 * v / len(docs))
    res.setdefault("TOTAL", []).append(1000 * total / len(docs))
for k, v in sorted(res.items(), key=lambda kv: -statistics.median(kv[1])):
    print(f"{k:22s} {statistics.median(v):6.3f} ms/article  ({', '.join(f'{x:.2f}' for x in v)})")
