"""Run claim logic without S3: expiry on S3's clock, bodies, keys, error classification."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors import s3
from connectors.run_claim import ClaimBody, ClaimState, _precondition_failed, claim_key

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def _body(**kw) -> ClaimBody:
    base = dict(token="t1", group_id="g", host="h1", pid=7, lease_seconds=60.0,
                created_at="2026-01-01T12:00:00Z", renewed_at="2026-01-01T12:00:00Z",
                expires_at="2026-01-01T12:01:00Z")
    return ClaimBody(**{**base, **kw})


def test_claim_is_free_only_after_its_lease_on_s3_clock():
    body = _body(lease_seconds=60)
    assert not ClaimState(body, "e", T0, T0 + timedelta(seconds=59)).free()
    assert ClaimState(body, "e", T0, T0 + timedelta(seconds=60)).free()
    # The holder's own expires_at (its clock) does not matter, only Last-Modified + lease.
    skewed = _body(lease_seconds=60, expires_at="1999-01-01T00:00:00Z")
    assert not ClaimState(skewed, "e", T0, T0 + timedelta(seconds=10)).free()


def test_released_claim_is_free_at_once():
    assert ClaimState(_body(released=True), "e", T0, T0).free()


def test_unreadable_claim_counts_by_age_with_a_long_lease():
    state = ClaimState(ClaimBody.from_json(b"not json"), "e", T0, T0 + timedelta(minutes=30))
    assert state.body is None and not state.free()
    assert ClaimState(None, "e", T0, T0 + timedelta(hours=1)).free()


def test_body_round_trip_and_unknown_fields_from_newer_release():
    body = _body(run_id="abcd", ranges=[{"partition": 0, "start": 1, "end": 5}])
    assert ClaimBody.from_json(body.to_json()) == body
    newer = body.to_json().replace(b'{', b'{"added_later": 1, ', 1)
    assert ClaimBody.from_json(newer) == body
    assert ClaimBody.from_json(b'{"token": "x"}') is None  # missing fields: unreadable


def test_describe_names_host_pid_plan_and_lease():
    text = _body(run_id="0123456789abcdef").describe()
    assert "host h1 pid 7" in text and "run 0123456789abcdef" in text and "lease until" in text


def test_claim_key_is_per_group_and_safe():
    ss = s3.S3Settings("b", "pre/fix", None, "us-east-1", None, None, 1, 1, 1)
    assert claim_key(ss, "newsbeam-pipeline") == "pre/fix/_claims/newsbeam-pipeline.json"
    assert claim_key(ss, "a/b c") == "pre/fix/_claims/a_b_c.json"


def test_precondition_failures_are_recognised():
    class E(Exception):
        def __init__(self, code, status):
            self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}

    assert _precondition_failed(E("PreconditionFailed", 412))
    assert _precondition_failed(E("ConditionalRequestConflict", 409))
    assert not _precondition_failed(E("AccessDenied", 403))
    assert not _precondition_failed(RuntimeError("no response"))
