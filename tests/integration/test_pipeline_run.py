"""The Beam run against the real local Kafka broker and the real SeaweedFS S3 endpoint."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from connectors import run_ledger, s3
from connectors.errors import KafkaUnavailable, S3Unavailable
from connectors.kafka_source import KafkaSettings, reset_offsets
from pipeline.config import load_config
from pipeline.run import execute
from stackutil import OutageProxy, committed_offsets, feed_item, manifests, produce, read_table

STORY = ("Iran's President Masoud Pezeshkian said on Tuesday that talks would continue.\n\n"
         "\"We will not give up on diplomacy,\" he added, speaking to reporters in Tehran.\n\n"
         "The foreign ministry said the next round would take place in Oman next month, "
         "according to officials familiar with the plans. ") * 3
OTHER = ("The central bank held interest rates at four percent on Thursday, citing slowing "
         "inflation and a weaker labour market in the second quarter of the year. ") * 4


@pytest.fixture
def cfg(stack_config):
    # NLP has its own tests; these check the data path, so keep the runs light.
    return stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})


def _ids(rows):
    return sorted(r["item_id"] for r in rows)


def test_story_in_two_feeds_then_nothing_new(cfg):
    produce(cfg, [feed_item("feed1-story", STORY, feed="http://a.example/rss"),
                  feed_item("feed2-story", STORY + " Reporting by the wire desk.",
                            feed="http://b.example/rss", published="2025-01-28T10:05:00Z"),
                  feed_item("feed1-other", OTHER)])
    first = execute(cfg)
    articles = read_table(cfg, "articles")
    assert _ids(articles) == ["feed1-other", "feed1-story", "feed2-story"]
    by_id = {r["item_id"]: r for r in articles}
    assert by_id["feed1-story"]["story_id"] == by_id["feed2-story"]["story_id"] == "feed1-story"
    assert by_id["feed2-story"]["duplicate_of"] == "feed1-story"
    assert by_id["feed1-other"]["story_id"] == "feed1-other"
    assert first.status == "written" and first.rows["articles"] == 3
    offsets = committed_offsets(cfg)
    assert sum(offsets.values()) == 3

    files_before = run_ledger.data_files(s3.S3Settings.from_config(cfg.s3))
    second = execute(cfg)
    assert second.status == "nothing to do"
    assert run_ledger.data_files(s3.S3Settings.from_config(cfg.s3)) == files_before
    assert committed_offsets(cfg) == offsets


def test_replay_after_offset_reset_adds_no_rows(cfg):
    """Records first processed by two separate runs, then replayed from offset 0 in one run."""
    items = [feed_item(f"item-{i}", OTHER + f" Item number {i} has its own ending {i * 7}.")
             for i in range(6)]
    produce(cfg, items[:3] + [b"\xff\xfe not json"])
    execute(cfg)
    produce(cfg, items[3:])
    execute(cfg)
    before = {t: sorted(map(str, read_table(cfg, t))) for t in ("articles", "rejects")}
    assert len(before["articles"]) == 6 and len(before["rejects"]) == 1

    reset_offsets(KafkaSettings.from_config(cfg.kafka), {p: 0 for p in committed_offsets(cfg)})
    replay = execute(cfg)
    assert replay.status == "written" and replay.records == 7
    after = {t: sorted(map(str, read_table(cfg, t))) for t in ("articles", "rejects")}
    assert after == before


def test_same_offsets_rerun_overwrites_its_own_files(cfg):
    """Crash between manifest and commit: the rerun sees the same offsets and only commits."""
    produce(cfg, [feed_item("x1", OTHER), feed_item("x2", STORY)])
    execute(cfg)
    reset_offsets(KafkaSettings.from_config(cfg.kafka), {p: 0 for p in committed_offsets(cfg)})
    again = execute(cfg)
    assert again.status == "committed earlier output"
    assert _ids(read_table(cfg, "articles")) == ["x1", "x2"]


def test_poison_record_goes_to_rejects_and_batch_is_written(cfg):
    good = [feed_item(f"good-{i}", OTHER + f" Variant {i} of the report, number {i * 13}.") for i in range(3)]
    bad_schema = dict(feed_item("bad-schema", OTHER), schema_version=99)
    missing = {k: v for k, v in feed_item("no-url", OTHER).items() if k != "url"}
    produce(cfg, good + [b"{truncated json", bad_schema, missing])
    summary = execute(cfg)
    assert _ids(read_table(cfg, "articles")) == ["good-0", "good-1", "good-2"]
    rejects = read_table(cfg, "rejects")
    assert len(rejects) == 3 and summary.rows["rejects"] == 3
    errors = sorted(r["error"] for r in rejects)
    assert any("not JSON" in e for e in errors)
    assert any("schema_version 99" in e for e in errors)
    assert any("'url'" in e for e in errors)
    assert all(r["payload"] and r["kafka_offset"] is not None and r["stage"] == "decode" for r in rejects)


def test_broker_down_is_one_clear_line_and_moves_nothing(stack_config, tmp_path):
    env = {"NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
           "NEWSBEAM_KAFKA__TOPIC": stack_config.kafka.topic,
           "NEWSBEAM_S3__PREFIX": stack_config.s3.prefix,
           "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "lock")}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config",
                           "deploy/local/newsbeam.local.yaml", "run"],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
    assert proc.returncode == KafkaUnavailable.exit_code == 3
    err_lines = proc.stderr.strip().splitlines()
    assert len(err_lines) == 1, proc.stderr
    assert err_lines[0].startswith("newsbeam run: Kafka broker unreachable at 127.0.0.1:1")
    assert proc.stdout == ""
    assert run_ledger.data_files(s3.S3Settings.from_config(stack_config.s3)) == []


def test_s3_outage_during_write_fails_clearly_then_next_run_succeeds(cfg, s3_endpoint):
    proxy = OutageProxy(s3_endpoint)
    try:
        flaky = cfg.model_copy(update={"s3": cfg.s3.model_copy(update={
            "endpoint_url": proxy.endpoint, "max_attempts": 1, "connect_timeout": 2, "read_timeout": 5})})
        produce(cfg, [feed_item(f"o-{i}", OTHER + f" Outage test {i} {i * 11}.") for i in range(4)])
        proxy.fail_on_parquet_put = True
        with pytest.raises(S3Unavailable) as err:
            execute(flaky)
        assert proxy.endpoint.split("//")[1] in str(err.value)
        assert "offsets not committed" in str(err.value)
        assert all(v is None for v in committed_offsets(cfg).values())

        proxy.fail_on_parquet_put = False
        proxy.down = False
        summary = execute(flaky)
        assert summary.status == "written"
        assert _ids(read_table(cfg, "articles")) == [f"o-{i}" for i in range(4)]
        assert sum(committed_offsets(cfg).values()) == 4
    finally:
        proxy.close()


def test_sigkill_mid_write_then_rerun_gives_every_item_once(cfg, tmp_path):
    n = 60
    produce(cfg, [feed_item(f"k-{i:03d}", OTHER + f" Kill test article {i} ends {i * 17}.") for i in range(n)])
    env = {**os.environ,
           "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url,
           "NEWSBEAM_PIPELINE__NLP_ENABLED": "false",
           # one file per row: many uploads, so the kill lands between them
           "NEWSBEAM_PIPELINE__ROWS_PER_FILE": "1",
           # the rerun below takes the same lock file, so it knows the killed run ended and
           # takes its S3 claim over without waiting for the lease
           "NEWSBEAM_PIPELINE__LOCK_PATH": cfg.pipeline.lock_path}
    ss = s3.S3Settings.from_config(cfg.s3)
    # The kill lands while files are being written, or at the latest right before the manifest:
    # the child's manifest write never returns, so a fast run cannot finish before the kill.
    child = ("import sys, time\n"
             "from connectors import run_ledger\n"
             "run_ledger.write_manifest = lambda *a, **k: time.sleep(3600)\n"
             "from pipeline.cli import main\n"
             "sys.exit(main(['--config', 'deploy/local/newsbeam.local.yaml', 'run']))\n")
    env["NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN"] = "null"  # in this process, not a fresh one
    proc = subprocess.Popen([sys.executable, "-c", child], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if run_ledger.data_files(ss):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    partial = run_ledger.data_files(ss)
    assert partial and not manifests(cfg), "the run was killed before writing its manifest"
    assert all(v is None for v in committed_offsets(cfg).values())

    summary = execute(cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(update={"rows_per_file": 1})}))
    assert summary.removed_orphans >= 1
    ids = _ids(read_table(cfg, "articles"))
    assert ids == [f"k-{i:03d}" for i in range(n)]
