"""The run claim against the real SeaweedFS S3 endpoint: conditional writes decide who holds it."""
from __future__ import annotations

import threading
import time

import pytest

from connectors import s3
from connectors.run_claim import ClaimHeld, ClaimLost, RunClaim


@pytest.fixture
def ss(stack_config):
    return s3.S3Settings.from_config(stack_config.s3)


def test_second_claim_is_refused_naming_the_holder(ss):
    with RunClaim(ss, "g1", lease_seconds=60) as first:
        with pytest.raises(ClaimHeld) as held:
            RunClaim(ss, "g1", lease_seconds=60).acquire()
        assert f"pid {first.body.pid}" in str(held.value) and "expires at" in str(held.value)
        assert held.value.holder.token == first.body.token
        # another group is independent
        with RunClaim(ss, "g2", lease_seconds=60):
            pass
    # released: the next run takes it at once
    with RunClaim(ss, "g1", lease_seconds=60) as again:
        assert again.took_over is None


def test_expired_claim_is_taken_over_and_the_old_holder_is_fenced(ss):
    old = RunClaim(ss, "g", lease_seconds=2).acquire()
    old._stop_renewing()          # a holder that stopped renewing (paused or crashed)
    with pytest.raises(ClaimHeld):
        RunClaim(ss, "g", lease_seconds=2).acquire()
    time.sleep(3.5)
    new = RunClaim(ss, "g", lease_seconds=30).acquire()
    try:
        assert new.took_over is not None and new.took_over.token == old.body.token
        with pytest.raises(ClaimLost, match="taken over"):
            old.confirm()
        assert old.lost
        old.release()             # does not touch the new holder's claim
        assert new.current_holder().token == new.body.token
        new.confirm()
    finally:
        new.release()


def test_only_one_of_many_concurrent_takeovers_wins(ss):
    stale = RunClaim(ss, "race", lease_seconds=1).acquire()
    stale._stop_renewing()
    time.sleep(2.5)
    won, refused = [], []

    def contend():
        c = RunClaim(ss, "race", lease_seconds=30)
        try:
            won.append(c.acquire())
        except ClaimHeld:
            refused.append(c)

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(won) == 1 and len(refused) == 5
    finally:
        for c in won:
            c.release()


def test_background_renewal_keeps_a_short_lease_alive(ss):
    with RunClaim(ss, "renewed", lease_seconds=2) as holder:
        time.sleep(4.5)           # more than two leases: only renewals keep it
        with pytest.raises(ClaimHeld):
            RunClaim(ss, "renewed", lease_seconds=2).acquire()
        holder.note_plan("0123456789abcdef", [{"partition": 0, "start": 0, "end": 3}])
        assert holder.current_holder().run_id == "0123456789abcdef"
