"""`newsbeam run` on a Dask cluster (Beam's DaskRunner): a scheduler and two workers as separate
processes, started by deploy/local/dask.sh with an almost empty environment and their own working
directories, against the real local Kafka and S3.

- the same input gives the same five tables as the DirectRunner (every column but run_id) and
  the same counters in the manifest, the leaders list named by a *relative* path reaching the
  workers with the job;
- a rerun adds nothing;
- a worker process killed in the middle of a run fails the run with one clear line, offsets
  uncommitted, and the next run writes every item exactly once.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors import run_ledger, s3
from connectors.kafka_source import KafkaSettings, reset_offsets
from connectors.tables import SCHEMAS
from conftest import ROOT, shared_path
from pipeline.config import load_config
from stackutil import OutageProxy, committed_offsets, feed_item, manifests, produce, read_table

# Tests use ports 9600-9699 (other checkouts' stacks use the defaults and other ranges).
SCHEDULER_PORT = int(os.environ.get("NEWSBEAM_TEST_DASK_SCHEDULER_PORT", "9660"))
WORKER_PORT = int(os.environ.get("NEWSBEAM_TEST_DASK_WORKER_PORT", "9662"))
ADDRESS = f"tcp://127.0.0.1:{SCHEDULER_PORT}"
DASK_ARGS = ["--runner=DaskRunner", f"--dask_client_address={ADDRESS}"]

LEADERS = """- {name: Anna Holt, aliases: [Holt], role: prime minister, country: Freedonia, from: 2020-01-01, to: null}
"""
HOLT = ("\u201cWe will rebuild every bridge before the winter,\u201d Prime Minister Anna Holt said on "
        "Tuesday.\n\nThe opposition said the plan was unfunded. \u201cThere is no money for it,\u201d "
        "said Marek Stone, who leads the opposition.\n\n") * 2


GERMAN = ("Die Regierung hat am Dienstag neue Gespräche mit den Nachbarländern angekündigt. "
          "Der Außenminister sagte, man werde die Verhandlungen im nächsten Monat fortsetzen. ") * 3


def _cluster_env() -> dict[str, str]:
    return {**os.environ, "NEWSBEAM_DASK_SCHEDULER_PORT": str(SCHEDULER_PORT),
            "NEWSBEAM_DASK_WORKER_PORT": str(WORKER_PORT), "NEWSBEAM_DASK_WORKERS": "2",
            "NEWSBEAM_DASK_DIR": str(ROOT / ".stack" / "dask-test")}


def _dask_sh(command: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "deploy/local/dask.sh"), command], env=_cluster_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def dask_cluster(kafka_bootstrap, s3_endpoint):
    """The cluster for this module: started here, stopped at the end whatever happened."""
    up = _dask_sh("up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield ADDRESS
    finally:
        down = _dask_sh("down")
        assert down.returncode == 0, down.stdout + down.stderr


def _wait_for_workers(n: int = 2) -> None:
    subprocess.run([sys.executable, "-m", "pipeline.stackcheck", "dask", ADDRESS, "--workers", str(n),
                    "--timeout", "120"], check=True, capture_output=True, timeout=150)


def _bbc_texts(n: int, category: str = "politics") -> list[str]:
    folder = shared_path("data", "bbc", category)
    texts = []
    for path in sorted(folder.glob("*.txt"))[:n]:
        title, _, body = path.read_text(encoding="latin-1").partition("\n")
        texts.append(body.strip())
    return texts


def _run_cli(cfg, extra_env: dict[str, str], args: list[str], cwd: Path, timeout: float = 600):
    env = {**os.environ,
           "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__BUCKET": cfg.s3.bucket, "NEWSBEAM_S3__PREFIX": cfg.s3.prefix,
           "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url,
           "NEWSBEAM_S3__ACCESS_KEY_ID": cfg.s3.access_key_id,
           "NEWSBEAM_S3__SECRET_ACCESS_KEY": cfg.s3.secret_access_key.get_secret_value(),
           "NEWSBEAM_PIPELINE__LOCK_PATH": cfg.pipeline.lock_path, **extra_env}
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc, timeout: float = 600) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _config(stack_config, name: str):
    """The same topic, read by another consumer group into another prefix (own lock)."""
    env = {"NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": stack_config.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": stack_config.kafka.topic,
           "NEWSBEAM_KAFKA__GROUP_ID": f"{stack_config.kafka.group_id}.{name}",
           "NEWSBEAM_S3__BUCKET": stack_config.s3.bucket, "NEWSBEAM_S3__PREFIX": f"{stack_config.s3.prefix}/{name}",
           "NEWSBEAM_S3__ENDPOINT_URL": stack_config.s3.endpoint_url,
           "NEWSBEAM_S3__ACCESS_KEY_ID": stack_config.s3.access_key_id,
           "NEWSBEAM_S3__SECRET_ACCESS_KEY": stack_config.s3.secret_access_key.get_secret_value(),
           "NEWSBEAM_PIPELINE__LOCK_PATH": f"{stack_config.pipeline.lock_path}.{name}"}
    return load_config(None, env)


def _comparable(rows: list[dict]) -> list[str]:
    """Rows without run_id (derived from the consumer group, which differs), in a fixed order."""
    return sorted(json.dumps({k: v for k, v in r.items() if k != "run_id"}, sort_keys=True, default=repr)
                  for r in rows)


def _mixed_input() -> list[dict | bytes]:
    """Real articles with what dedup and rejects must handle: re-deliveries, syndicated and near
    copies, poison records."""
    texts = _bbc_texts(24)
    items: list[dict | bytes] = [
        feed_item(f"bbc-{i:02d}", t, feed=f"http://feed{i % 3}.example/rss",
                  published=f"2025-01-28T{10 + i % 10:02d}:00:00Z") for i, t in enumerate(texts)]
    items.append(feed_item("holt", HOLT, feed="http://freedonia.example/rss"))
    items.append(dict(feed_item("de-1", GERMAN, feed="http://de.example/rss"), language="de"))  # nlp_skipped
    items += [feed_item(f"copy-{i}", texts[i], url=f"https://mirror.example/{i}",
                        feed="http://mirror.example/rss", published="2025-01-28T20:00:00Z") for i in (0, 5, 9)]
    items += [feed_item("bbc-03", texts[3]), feed_item("bbc-07", texts[7])]  # the same items again
    items.append(feed_item("near-11", texts[11] + " Additional reporting by the wire desk.",
                           feed="http://wire.example/rss", published="2025-01-28T21:00:00Z"))
    items += [b"not json at all", json.dumps({"schema_version": 99}).encode()]
    return items


def test_dask_run_gives_the_direct_runners_tables_and_a_rerun_adds_nothing(stack_config, dask_cluster, tmp_path):
    items = _mixed_input()
    direct, dask = _config(stack_config, "direct"), _config(stack_config, "dask")
    produce(direct, items)  # one topic, two consumer groups: the very same records
    # A relative path, resolved in the launcher's working directory: the workers start elsewhere
    # (their own directories), so the list must travel with the job.
    (tmp_path / "leaders.yaml").write_text(LEADERS, encoding="utf-8")
    env = {"NEWSBEAM_NLP__LEADERS_FILE": "leaders.yaml"}

    code, out, err = _finish(_run_cli(direct, env, [], tmp_path))
    assert code == 0, err
    started = time.monotonic()
    code, out, err = _finish(_run_cli(dask, env, DASK_ARGS, tmp_path))
    dask_seconds = time.monotonic() - started
    assert code == 0, err
    assert out.startswith("run ") and ": written: 34 records" in out, out

    assert set(SCHEMAS) == {"articles", "quotes", "entities", "rejects", "duplicates"}
    for table in SCHEMAS:
        assert _comparable(read_table(dask, table)) == _comparable(read_table(direct, table)), table
    articles = {r["item_id"]: r for r in read_table(dask, "articles")}
    assert len(articles) == 30 and articles["copy-5"]["duplicate_of"] == "bbc-05"
    assert articles["near-11"]["story_id"] == "bbc-11"
    holt = [q for q in read_table(dask, "quotes") if q["speaker_name"] == "Anna Holt"]
    assert holt and all(q["is_leadership"] for q in holt), holt
    assert len(read_table(dask, "rejects")) == 2
    assert sorted(r["item_id"] for r in read_table(dask, "duplicates")) == ["bbc-03", "bbc-07"]
    # the counters (counted as data: the DaskRunner has no Beam metrics) match too
    def counters(cfg):
        (run_id,) = manifests(cfg)
        return run_ledger.read_manifest(s3.S3Settings.from_config(cfg.s3), run_id).counters
    assert counters(dask) == counters(direct)
    assert counters(dask)["duplicates_dropped"] == 2 and counters(dask)["rejects"] == 2
    assert counters(dask)["items_decoded"] == 32 and counters(dask)["quotes"] > 0
    assert counters(dask)["nlp_skipped"] == 1 and articles["de-1"]["nlp_skipped"]

    before = {t: _comparable(read_table(dask, t)) for t in SCHEMAS}
    code, out, err = _finish(_run_cli(dask, env, DASK_ARGS, tmp_path))
    assert code == 0 and "nothing to do" in out, out + err
    # replay of the same offsets: the run finds its own manifest and only commits
    reset_offsets(KafkaSettings.from_config(dask.kafka), {p: 0 for p in committed_offsets(dask)})
    code, out, err = _finish(_run_cli(dask, env, DASK_ARGS, tmp_path))
    assert code == 0 and "committed earlier output" in out, out + err
    assert {t: _comparable(read_table(dask, t)) for t in before} == before
    print(f"dask run of 34 records: {dask_seconds:.1f}s")


def _busy_worker(client, seen: dict, now: float, min_busy: float = 1.0):
    """A worker that has had the same task in processing for ``min_busy`` seconds: it is running
    a long task (NLP), so killing it now lands in the middle of the work."""
    for worker, keys in client.processing().items():
        for key in keys:
            first = seen.setdefault((worker, key), now)
            if now - first >= min_busy:
                return worker
    return None


def test_dask_worker_killed_mid_run_fails_clearly_then_rerun_writes_each_item_once(stack_config, dask_cluster, tmp_path):
    from distributed import Client

    cfg = stack_config
    # enough text that each NLP task runs for seconds, so the kill lands inside one
    items = [feed_item(f"k-{i:03d}", t) for i, t in enumerate(dict.fromkeys(_bbc_texts(200, "politics")))]
    produce(cfg, items)
    proc = _run_cli(cfg, {}, DASK_ARGS, tmp_path)
    killed = None
    try:
        with Client(ADDRESS, set_as_default=False, timeout=10) as client:
            seen: dict = {}
            deadline = time.monotonic() + 300
            while killed is None and proc.poll() is None and time.monotonic() < deadline:
                worker = _busy_worker(client, seen, time.monotonic())
                if worker:
                    killed = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(killed, signal.SIGKILL)  # the worker process, not its nanny: as the OOM killer would
                time.sleep(0.1)
    finally:
        if killed is None and proc.poll() is None:
            proc.kill()
    code, out, err = _finish(proc)
    assert killed, f"no worker was busy before the run ended: {out} {err}"
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith("newsbeam run: run ") and "offsets not committed" in lines[0], lines[0]
    assert "worker" in lines[0].lower() and "died" in lines[0], lines[0]
    assert out == ""
    assert all(v is None for v in committed_offsets(cfg).values())
    assert not manifests(cfg)

    _wait_for_workers(2)  # the nanny has started a new worker process
    code, out, err = _finish(_run_cli(cfg, {}, DASK_ARGS, tmp_path))
    assert code == 0 and ": written: " in out, out + err
    ids = sorted(r["item_id"] for r in read_table(cfg, "articles"))
    assert ids == sorted(i["item_id"] for i in items)
    assert sum(committed_offsets(cfg).values()) == len(items)
    assert len(manifests(cfg)) == 1


def test_dask_s3_outage_in_a_worker_is_the_typed_s3_error(stack_config, dask_cluster, tmp_path, s3_endpoint):
    """A failure inside a Dask worker reaches the launcher as its own type: S3 going down while
    the workers write Parquet exits 4 (S3Unavailable) naming the endpoint, offsets uncommitted;
    the next run writes everything."""
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})
    items = [feed_item(f"o-{i}", t) for i, t in enumerate(_bbc_texts(6, "business"))]
    produce(cfg, items)
    proxy = OutageProxy(s3_endpoint)
    try:
        flaky = {"NEWSBEAM_S3__ENDPOINT_URL": proxy.endpoint, "NEWSBEAM_S3__MAX_ATTEMPTS": "1",
                 "NEWSBEAM_S3__CONNECT_TIMEOUT": "2", "NEWSBEAM_S3__READ_TIMEOUT": "5",
                 "NEWSBEAM_PIPELINE__NLP_ENABLED": "false"}
        proxy.fail_on_parquet_put = True
        small = [*DASK_ARGS, "--dask_shuffle_partitions=2"]  # a small run: fewer shuffle tasks
        code, out, err = _finish(_run_cli(cfg, flaky, small, tmp_path))
        lines = err.strip().splitlines()
        # one error line; before it at most the note that the run claim (on the same S3) could
        # not be released and expires with its lease
        *notes, line = lines
        assert code == 4 and all("run claim" in n and "not released" in n for n in notes), err
        assert "S3 write failed at " in line and proxy.endpoint.split("//")[1] in line, line
        assert "offsets not committed" in line
        assert all(v is None for v in committed_offsets(cfg).values())
        assert proxy.down  # the outage did happen in the workers' upload

        proxy.fail_on_parquet_put = False
        proxy.down = False
        code, out, err = _finish(_run_cli(cfg, flaky, small, tmp_path))
        assert code == 0 and ": written: 6 records" in out, out + err
        assert sorted(r["item_id"] for r in read_table(cfg, "articles")) == [i["item_id"] for i in items]
    finally:
        proxy.close()
