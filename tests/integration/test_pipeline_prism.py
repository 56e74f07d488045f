"""The same pipeline on Beam's portable Prism runner: the path Flink, Spark and Dataflow take."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.run import execute
from stackutil import feed_item, produce, read_table

TEXT = ("The finance minister said the budget would be presented next week, and officials "
        "expected few changes to the spending plans announced in the spring. ") * 4


@pytest.fixture(scope="module")
def prism() -> str:
    path = os.environ.get("NEWSBEAM_PRISM") or str(Path(__file__).resolve().parents[2] / ".tools/bin/prism")
    if not Path(path).is_file():
        pytest.skip(f"Prism runner binary not built at {path}: `make prism` builds it (make test does)")
    return path


def _prism_args(prism: str) -> list[str]:
    # Beam's DirectRunner first tries Prism itself and keeps a process-wide Prism job server
    # (without our --prism_location); ask for a job server of our own.
    return ["--runner=PrismRunner", f"--prism_location={prism}",
            "--experiments=disable_prism_server_singleton"]


def test_pipeline_runs_on_prism(stack_config, prism):
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})
    produce(cfg, [feed_item("p1", TEXT, feed="http://a.example/rss"),
                  feed_item("p2", TEXT + " More from the wire.", feed="http://b.example/rss",
                            published="2025-01-28T11:00:00Z"),
                  feed_item("p1", TEXT), b"not json at all"])
    summary = execute(cfg, _prism_args(prism))
    assert summary.status == "written"
    articles = {r["item_id"]: r for r in read_table(cfg, "articles")}
    assert sorted(articles) == ["p1", "p2"]
    assert articles["p2"]["story_id"] == "p1"
    assert len(read_table(cfg, "rejects")) == 1
    assert execute(cfg, _prism_args(prism)).status == "nothing to do"
