"""Which files readers see and when symlink manifests are rewritten (no S3 here)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors import s3
from connectors.committed_files import (committed, parse_symlink_key, stale_partitions,
                                        symlink_key, symlink_text)
from connectors.duckdb_s3 import table_view_sql
from connectors.run_ledger import DataFile

SS = s3.S3Settings("bkt", "pre", None, "us-east-1", None, None, 1, 1, 1)
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _f(table, dt, run, shard=0):
    return DataFile(f"pre/{table}/dt={dt}/part-{run}-{shard:05d}.parquet", table, dt, run, shard)


def test_only_files_of_runs_with_a_manifest_are_committed():
    files = [_f("articles", "2026-01-01", "a" * 16), _f("articles", "2026-01-01", "b" * 16),
             _f("quotes", "2026-01-02", "a" * 16, 3)]
    assert [f.run for f in committed(files, {"a" * 16})] == ["a" * 16, "a" * 16]


def test_symlink_key_round_trip_and_foreign_keys():
    key = symlink_key(SS, "quotes", "2026-01-02")
    assert key == "pre/_symlink/quotes/dt=2026-01-02/manifest"
    assert parse_symlink_key(SS, key) == ("quotes", "2026-01-02")
    assert parse_symlink_key(SS, "pre/quotes/dt=2026-01-02/part-x.parquet") is None
    assert parse_symlink_key(SS, "pre/_symlink/quotes/manifest") is None


def test_symlink_text_lists_full_urls_sorted():
    text = symlink_text(SS, [_f("articles", "d", "b" * 16), _f("articles", "d", "a" * 16)])
    assert text.splitlines() == [f"s3://bkt/pre/articles/dt=d/part-{r * 16}-00000.parquet" for r in "ab"]


def test_partitions_are_stale_when_missing_or_older_than_a_committed_run():
    a, b = "a" * 16, "b" * 16
    files = [_f("articles", "d1", a), _f("articles", "d2", b), _f("quotes", "d1", a)]
    runs = {a: T0, b: T0 + timedelta(minutes=15)}
    links = {("articles", "d1"): T0 + timedelta(seconds=2),       # written after run a: fresh
             ("articles", "d2"): T0 + timedelta(minutes=1),       # before run b: stale
             }                                                    # quotes d1: missing
    assert stale_partitions(files, runs, links) == {("articles", "d2"), ("quotes", "d1")}
    # same second as the manifest: rewritten to be safe (Last-Modified has whole seconds)
    assert stale_partitions([_f("articles", "d1", a)], {a: T0}, {("articles", "d1"): T0}) == {("articles", "d1")}


def test_query_view_reads_exactly_the_listed_files():
    sql = table_view_sql(SS, "articles", ["pre/articles/dt=d/part-2.parquet", "pre/articles/dt=d/part-1.parquet"])
    assert "dt=*" not in sql
    assert "['s3://bkt/pre/articles/dt=d/part-1.parquet', 's3://bkt/pre/articles/dt=d/part-2.parquet']" in sql


def test_symlink_text_lists_a_file_once():
    f = _f("articles", "d", "a" * 16)
    assert symlink_text(SS, [f, DataFile(*vars(f).values())]).count("\n") == 1
