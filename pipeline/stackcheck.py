"""Readiness probes for the local stack: a real client round trip, never a sleep.

    python -m pipeline.stackcheck kafka 127.0.0.1:9092
    python -m pipeline.stackcheck s3 http://127.0.0.1:8333 --bucket newsbeam --access-key .. --secret-key ..
    python -m pipeline.stackcheck dask tcp://127.0.0.1:8786 --workers 2
"""
from __future__ import annotations

import argparse
import sys
import time


def kafka_ready(bootstrap: str, probe_topic: str = "newsbeam.stackcheck") -> None:
    """Metadata fetch plus an idempotent topic create: proves the broker and its controller work."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000,
                             client_id="newsbeam-stackcheck")
    try:
        if probe_topic not in admin.list_topics():
            try:
                admin.create_topics([NewTopic(probe_topic, 1, 1)])
            except TopicAlreadyExistsError:
                pass
        admin.describe_topics([probe_topic])
    finally:
        admin.close()


def s3_ready(endpoint: str, bucket: str, access_key: str, secret_key: str) -> None:
    """Signed calls: create the bucket when missing, then list it."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key,
                      aws_secret_access_key=secret_key, region_name="us-east-1",
                      config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1}))
    names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in names:
        s3.create_bucket(Bucket=bucket)
    s3.list_objects_v2(Bucket=bucket, MaxKeys=1)


def dask_ready(address: str, workers: int) -> None:
    """A client connects to the scheduler, which reports at least ``workers`` workers."""
    from distributed import Client

    with Client(address, timeout=5, set_as_default=False) as client:
        have = len(client.scheduler_info(n_workers=-1)["workers"])
        if have < workers:
            raise RuntimeError(f"{have} of {workers} workers connected")


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            check()
            print(f"{what}: ready")
            return
        except Exception as exc:  # any failure means "not yet"; the last one is reported
            last = exc
            time.sleep(1.0)
    raise SystemExit(f"{what}: not ready after {timeout:.0f}s: {type(last).__name__}: {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.stackcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="service", required=True)
    k = sub.add_parser("kafka", help="wait for a Kafka broker")
    k.add_argument("bootstrap")
    s = sub.add_parser("s3", help="wait for an S3 endpoint and create the bucket")
    s.add_argument("endpoint")
    s.add_argument("--bucket", required=True)
    s.add_argument("--access-key", required=True)
    s.add_argument("--secret-key", required=True)
    d = sub.add_parser("dask", help="wait for a Dask scheduler and its workers")
    d.add_argument("address")
    d.add_argument("--workers", type=int, default=1)
    for p in (k, s, d):
        p.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.service == "kafka":
        wait_until(lambda: kafka_ready(args.bootstrap), args.timeout, f"kafka {args.bootstrap}")
    elif args.service == "dask":
        wait_until(lambda: dask_ready(args.address, args.workers), args.timeout,
                   f"dask {args.address} ({args.workers} workers)")
    else:
        wait_until(lambda: s3_ready(args.endpoint, args.bucket, args.access_key, args.secret_key),
                   args.timeout, f"s3 {args.endpoint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
