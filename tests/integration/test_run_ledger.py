"""The run ledger (connectors/run_ledger.py) on the real S3: the typed manifest a run commits with,
what `newsbeam status` reads from it, and the clean-up of files of runs without one."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from connectors import run_ledger, s3
from pipeline.run import execute
from stackutil import feed_item, produce, read_table

TEXT = "The committee approved the budget for the new harbour bridge after a long debate. " * 3


def _light(cfg):
    return cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(update={"nlp_enabled": False})})


def test_manifest_is_typed_and_status_reads_it(stack_config):
    cfg = _light(stack_config)
    produce(cfg, [feed_item(f"l-{i}", TEXT + f" Item {i}.") for i in range(3)] + [b"not json"])
    summary = execute(cfg)
    ss = s3.S3Settings.from_config(cfg.s3)
    manifest = run_ledger.read_manifest(ss, summary.run_id)
    assert manifest.schema_version == run_ledger.MANIFEST_SCHEMA_VERSION == 1
    assert (manifest.run_id, manifest.group_id) == (summary.run_id, cfg.kafka.group_id)
    assert sum(r.end - r.start for r in manifest.offsets) == 4
    assert manifest.rows == {"articles": 3, "rejects": 1} == summary.rows
    assert sorted(f.key for f in manifest.files) == sorted(summary.files)
    assert {f.table: f.rows for f in manifest.files} == {"articles": 3, "rejects": 1}
    assert len(read_table(cfg, "articles")) == 3
    assert run_ledger.committed_runs(ss) == {summary.run_id}

    # a file of a run that never committed (a crash): status names it, the next run removes it
    orphan = run_ledger.file_key(ss, "articles", "2025-01-28", "f" * 16, 0)
    s3.client(ss).put_object(Bucket=ss.bucket, Key=orphan, Body=b"partial")
    env = {**os.environ, "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "status", "--json", "--config",
                           "deploy/local/newsbeam.local.yaml"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["s3"]["runs"] == 1 and report["s3"]["last_run"]["run_id"] == summary.run_id
    assert report["s3"]["last_run"]["rows"] == {"articles": 3, "rejects": 1}
    assert report["s3"]["uncommitted_runs"] == ["f" * 16]
    assert report["kafka"]["lag"] == 0

    produce(cfg, [feed_item("l-new", TEXT + " A later item.")])
    later = execute(cfg)
    assert later.removed_orphans == 1
    assert orphan not in [f.key for f in run_ledger.data_files(ss)]


def test_a_manifest_of_an_earlier_release_still_reads(stack_config):
    ss = s3.S3Settings.from_config(stack_config.s3)
    old = {"run_id": "0123456789abcdef", "group_id": "g", "finished_at": "2025-01-28T10:00:00Z",
           "offsets": [{"topic": "t", "partition": 0, "start": 0, "end": 2}],
           "files": [{"table": "articles", "key": "k", "rows": 2}], "rows": {"articles": 2},
           "counters": {"items_decoded": 2}}
    s3.client(ss).put_object(Bucket=ss.bucket, Key=run_ledger.manifest_key(ss, old["run_id"]),
                             Body=json.dumps(old).encode())
    manifest = run_ledger.read_manifest(ss, old["run_id"])
    assert manifest.schema_version == 1 and manifest.rows == {"articles": 2}
    assert run_ledger.latest_manifest(ss) == (1, manifest)
