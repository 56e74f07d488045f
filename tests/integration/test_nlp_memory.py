"""A 1 MB article through the real pipeline (Kafka -> Beam -> S3) keeps a worker under the
memory docs/operations.md documents: the NLP reads at most nlp.max_chars of it, the full text
is kept in articles.text and the article is flagged. The run is a child process that reports
its own peak RSS (memory, not time: nothing here depends on the machine's speed)."""
from __future__ import annotations

import subprocess
import sys

from stackutil import ROOT_CONFIG, committed_rows, feed_item, produce, run_env
from tests_shared_text import long_article

# docs/operations.md, "Memory per worker": the bound with the default nlp settings.
DOCUMENTED_WORKER_PEAK_MB = 1200

CHILD = """
import resource, sys
from pipeline.cli import main
code = main(["--config", sys.argv[1], "run"])
print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", file=sys.stderr)
sys.exit(code)
"""


def test_one_megabyte_article_stays_under_the_documented_worker_memory(stack_config):
    text = long_article(1_000_000)
    produce(stack_config, [feed_item("huge-page", text, url="https://huge.example/page"),
                           feed_item("normal", long_article(3000), url="https://huge.example/normal")])
    # In-process DirectRunner, no fresh run process: this process is the worker.
    env = run_env(stack_config, PIPELINE__MAX_RECORDS_PER_RUN="null")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT_CONFIG)], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak = float(proc.stderr.rsplit("peak_rss_mb ", 1)[1].split()[0])
    assert peak < DOCUMENTED_WORKER_PEAK_MB, f"worker peaked at {peak:.0f} MB"

    articles = {r["item_id"]: r for r in committed_rows(stack_config, "articles")}
    huge, normal = articles["huge-page"], articles["normal"]
    assert huge["nlp_truncated"] is True and normal["nlp_truncated"] is False
    assert len(huge["text"]) > 900_000                   # the whole text is kept
    quotes = [q for q in committed_rows(stack_config, "quotes") if q["item_id"] == "huge-page"]
    assert quotes and max(q["end_char"] for q in quotes) <= stack_config.nlp.max_chars
    assert all(huge["text"][q["start_char"]:q["end_char"]] == q["text"] for q in quotes)
