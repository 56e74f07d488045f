"""Helpers for integration tests: put feed items into the real Kafka, read tables from the real S3."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow.parquet as pq

from connectors import run_ledger, s3
from pipeline.config import Config


def feed_item(item_id: str, text: str, *, url: str | None = None, title: str = "A title",
              feed: str = "http://feeds.example/a.xml", published: str = "2025-01-28T10:00:00Z",
              fetched_at: str | None = None) -> dict:
    return {
        "schema_version": 1, "item_id": item_id, "url": url or f"https://news.example/{item_id}",
        "title": title, "summary_html": "", "summary_text": text[:100], "content_html": "",
        "content_text": text, "authors": [], "tags": [], "published": published, "updated": None,
        "published_missing": False, "language": "en", "feed_url": feed, "feed_title": feed,
        "fetched_at": fetched_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def produce(config: Config, items: list[dict | bytes], partitions: int = 2) -> None:
    """Items as JSON (dicts) or raw bytes (poison), keyed like the poller keys them."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=config.kafka.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(config.kafka.topic, partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=config.kafka.bootstrap_servers, acks="all")
    for i, it in enumerate(items):
        if isinstance(it, bytes):
            producer.send(config.kafka.topic, key=f"poison-{i}".encode(), value=it)
        else:
            item_id = it.get("item_id")
            key = item_id if isinstance(item_id, str) and item_id else f"poison-{i}"
            producer.send(config.kafka.topic, key=key.encode(), value=json.dumps(it).encode())
    producer.flush()
    producer.close()


def read_table(config: Config, table: str) -> list[dict]:
    """Rows of one table from committed runs only (what a reader following manifests sees)
    plus any files present (what a naive glob sees) - tests compare both where it matters."""
    ss = s3.S3Settings.from_config(config.s3)
    fs = s3.filesystem(ss)
    rows: list[dict] = []
    for f in run_ledger.data_files(ss, (table,)):
        rows.extend(pq.read_table(f"{ss.bucket}/{f.key}", filesystem=fs).to_pylist())
    return rows


class OutageProxy:
    """A TCP proxy in front of the real S3 endpoint that can go down on command or at the
    first Parquet upload, to test S3 outages during a run without mocking S3."""

    def __init__(self, upstream: str):
        import socket
        import threading

        self._up_host, _, port = upstream.split("//", 1)[1].rpartition(":")
        self._up_port = int(port)
        self.down = False
        self.fail_on_parquet_put = False
        self.fail_on_parquet_get = False  # an outage once a reader (DuckDB) fetches a data file
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._stop = False
        self.endpoint = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        import socket
        import threading

        self._sock.settimeout(0.2)
        while not self._stop:
            try:
                client, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection((self._up_host, self._up_port), timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, from_client: bool):
        try:
            while True:
                data = src.recv(65536)
                if not data or self.down:
                    break
                if from_client and self.fail_on_parquet_put and b"PUT /" in data and b".parquet" in data:
                    self.down = True  # the outage starts with the first data file upload
                    break
                if from_client and self.fail_on_parquet_get and b".parquet" in data \
                        and (b"GET /" in data or b"HEAD /" in data):
                    self.down = True  # the outage starts when a data file is read
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self._stop = True
        self._sock.close()


def committed_offsets(config: Config) -> dict[int, int | None]:
    from connectors.kafka_source import KafkaSettings, committed_offsets as group_offsets

    return group_offsets(KafkaSettings.from_config(config.kafka))


def manifests(config: Config) -> list[str]:
    ss = s3.S3Settings.from_config(config.s3)
    return sorted(run_ledger.committed_runs(ss))


ROOT_CONFIG = __import__("pathlib").Path(__file__).resolve().parents[2] / "deploy" / "local" / "newsbeam.local.yaml"


def run_env(config: Config, **overrides: str) -> dict[str, str]:
    """Environment for a `newsbeam` subprocess on the same topic, group, prefix and S3 as
    `config` (deploy/local/newsbeam.local.yaml plus NEWSBEAM_* overrides)."""
    import os

    env = {**os.environ,
           "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": config.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": config.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": config.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": config.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": config.s3.endpoint_url,
           "NEWSBEAM_PIPELINE__NLP_ENABLED": str(config.pipeline.nlp_enabled).lower(),
           "NEWSBEAM_PIPELINE__LOCK_PATH": config.pipeline.lock_path}
    env.update({f"NEWSBEAM_{k.upper()}": v for k, v in overrides.items()})
    return env


def newsbeam(*args: str) -> list[str]:
    """Command line of the CLI with the local stack's configuration file."""
    import sys

    return [sys.executable, "-m", "pipeline.cli", "--config", str(ROOT_CONFIG), *args]


def committed_rows(config: Config, table: str) -> list[dict]:
    """Rows of one table in committed runs only (files of runs with a manifest)."""
    ss = s3.S3Settings.from_config(config.s3)
    fs = s3.filesystem(ss)
    done = run_ledger.committed_runs(ss)
    rows: list[dict] = []
    for f in run_ledger.data_files(ss, (table,)):
        if f.run in done:
            rows.extend(pq.read_table(f"{ss.bucket}/{f.key}", filesystem=fs).to_pylist())
    return rows


def commit_run(ss: s3.S3Settings, run_id: str) -> None:
    """A bare manifest for files a test wrote itself under ``run_id``: readers see committed runs only."""
    run_ledger.write_manifest(ss, run_ledger.RunManifest(run_id=run_id, group_id="test-writer",
                                                         finished_at="2025-01-28T12:00:00Z"))
