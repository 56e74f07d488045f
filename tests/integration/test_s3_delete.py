"""S3 deletes that fail are not ignored: DeleteObjects answers HTTP 200 with per-key errors when the
role may not delete. The local stack has such a role (read and list only, deploy/local/seaweedfs.sh);
real SeaweedFS, no mocks."""
from __future__ import annotations

import pyarrow as pa
from pydantic import SecretStr
import pyarrow.parquet as pq
import pytest

from connectors import run_ledger, s3
from connectors.errors import S3DeleteError, S3Unavailable
from pipeline.run import execute
from stackutil import committed_offsets, feed_item, produce

S3_KEY_NODELETE_SUFFIX = "-nodelete"


def _no_delete(config):
    """The same S3 location, reached with the read-and-list-only identity."""
    return config.model_copy(update={"s3": config.s3.model_copy(update={
        "access_key_id": config.s3.access_key_id + S3_KEY_NODELETE_SUFFIX,
        "secret_access_key": SecretStr(config.s3.secret_access_key.get_secret_value() + S3_KEY_NODELETE_SUFFIX),
        "max_attempts": 1})})


def _orphan(config) -> str:
    """A data file of a run that never wrote its manifest (it crashed)."""
    ss = s3.S3Settings.from_config(config.s3)
    key = run_ledger.file_key(ss, "articles", "2025-01-28", "dead0000dead0000", 0)
    pq.write_table(pa.table({"item_id": ["crashed"]}), f"{ss.bucket}/{key}", filesystem=s3.filesystem(ss))
    return key


def test_per_key_delete_errors_raise_a_typed_error(stack_config):
    key = _orphan(stack_config)
    weak = s3.S3Settings.from_config(_no_delete(stack_config).s3)
    with pytest.raises(S3DeleteError) as err:
        s3.delete_keys(weak, [key])
    assert isinstance(err.value, S3Unavailable) and err.value.exit_code == 4
    assert err.value.failed == [(key, "AccessDenied", "Access Denied.")]
    assert "1 of 1 objects not deleted (AccessDenied)" in str(err.value)
    assert "s3:DeleteObject" in str(err.value)
    ss = s3.S3Settings.from_config(stack_config.s3)
    assert [o["Key"] for o in s3.list_keys(ss, key)] == [key]
    s3.delete_keys(ss, [key])  # the full identity can
    assert s3.list_keys(ss, key) == []


def test_run_that_cannot_remove_a_crashed_runs_files_fails_loudly(stack_config):
    """A run whose identity may not delete may not write either (this role reads and lists): it
    stops at its first write, the group's run claim, before touching anything, and says which
    rights it needs (S3DeleteError itself is tested above)."""
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})
    produce(cfg, [feed_item("d-1", "The harbour reopened on Friday after the storm passed. " * 3)])
    key = _orphan(cfg)
    with pytest.raises(S3Unavailable) as err:
        execute(_no_delete(cfg))
    message = str(err.value)
    assert message.startswith("S3 denied the run claim s3://") and "(AccessDenied)" in message
    assert "s3:PutObject" in message and "offsets not committed" in message
    assert err.value.exit_code == 4
    assert all(v is None for v in committed_offsets(cfg).values())
    assert [f.key for f in run_ledger.data_files(s3.S3Settings.from_config(cfg.s3))] == [key]
    # with delete rights the next run removes the orphan and writes its own rows
    summary = execute(cfg)
    assert summary.status == "written" and summary.removed_orphans == 1
