"""Shared fixtures. Integration tests talk to the real local stack (Kafka 4 + SeaweedFS S3)
started by `make test` (deploy/local/stack.sh); they skip with the reason when it is not up."""
from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()

KAFKA = os.environ.get("NEWSBEAM_TEST_KAFKA", f"127.0.0.1:{os.environ.get('NEWSBEAM_KAFKA_PORT', '9092')}")
S3_ENDPOINT = os.environ.get("NEWSBEAM_TEST_S3",
                             f"http://127.0.0.1:{os.environ.get('NEWSBEAM_S3_PORT', '8333')}")
S3_KEY = os.environ.get("NEWSBEAM_S3_ACCESS_KEY", "newsbeam")
S3_SECRET = os.environ.get("NEWSBEAM_S3_SECRET_KEY", "newsbeam-local-secret")
S3_BUCKET = os.environ.get("NEWSBEAM_S3_BUCKET", "newsbeam")


# Subprocesses (`newsbeam ...` run by tests) and configs loaded from deploy/local/newsbeam.local.yaml
# must reach the same stack as the fixtures, also when it runs on other ports (NEWSBEAM_*_PORT).
os.environ.setdefault("NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS", KAFKA)
os.environ.setdefault("NEWSBEAM_S3__ENDPOINT_URL", S3_ENDPOINT)


def _port_open(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def shared_path(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not present: {p} (tests that read ../shared need it beside the repo)")
    return p


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    if not _port_open(KAFKA):
        pytest.skip(f"no Kafka broker at {KAFKA}: start it with `newsbeam stack up` (make test does)")
    return KAFKA


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    if not _port_open(S3_ENDPOINT.split("//", 1)[1]):
        pytest.skip(f"no S3 endpoint at {S3_ENDPOINT}: start it with `newsbeam stack up` (make test does)")
    return S3_ENDPOINT


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def stack_config(kafka_bootstrap, s3_endpoint, unique, tmp_path):
    """A Config isolated per test: its own topic, consumer group, S3 prefix and lock file."""
    from pipeline.config import load_config

    env = {
        "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
        "NEWSBEAM_KAFKA__TOPIC": f"test.items.{unique}",
        "NEWSBEAM_KAFKA__GROUP_ID": f"test-group-{unique}",
        "NEWSBEAM_S3__BUCKET": S3_BUCKET,
        "NEWSBEAM_S3__PREFIX": f"test/{unique}",
        "NEWSBEAM_S3__ENDPOINT_URL": s3_endpoint,
        "NEWSBEAM_S3__ACCESS_KEY_ID": S3_KEY,
        "NEWSBEAM_S3__SECRET_ACCESS_KEY": S3_SECRET,
        "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "run.lock"),
        "NEWSBEAM_FEEDS__STATE_PATH": str(tmp_path / "poll-state.sqlite"),
    }
    return load_config(None, env)
