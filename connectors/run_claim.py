"""One run at a time per consumer group, across hosts: a leased claim object on S3.

Every run of a consumer group writes to the same tables and commits the same offsets, wherever
it starts. The local `flock` (pipeline.lock_path) only keeps runs on one host apart, so the
guard that counts lives where every run looks: `<prefix>/_claims/<group_id>.json` on S3, taken
and kept with S3 conditional writes (AWS S3, MinIO and SeaweedFS all support them):

* acquire: `PutObject(If-None-Match: *)` creates it; an existing claim that was released or
  whose lease ran out is taken over with `PutObject(If-Match: <its ETag>)`, so of two runs that
  find the same expired claim exactly one wins. An unexpired claim of another run is
  `ClaimHeld`, naming the holder.
* renew: the holder rewrites it with `If-Match: <the ETag it last wrote>` every third of the
  lease (a background thread), and right before its manifest and its offset commit
  (`confirm`). A failed precondition means another run took the claim over: `ClaimLost`.
* release: a conditional rewrite marking it released (not a delete: a plain delete could remove
  a claim another run has just taken over).

Expiry is judged on S3's clock only (the claim's Last-Modified plus the holder's lease, against
the Date of the response that read it), so hosts with skewed clocks agree. What remains open -
a holder paused for longer than its lease between its last check and the write that follows it
- is discussed in docs/architecture.md.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from connectors import s3
from connectors.errors import ClaimHeld, ClaimLost

log = logging.getLogger(__name__)

CLAIMS_DIR = "_claims"
# Renew this often, in parts of the lease: two renewals may fail before the lease runs out.
RENEWALS_PER_LEASE = 3


def _iso(moment: datetime) -> str:
    m = moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


@dataclass(frozen=True)
class ClaimBody:
    """What the claim object holds (JSON). `token` identifies the holding run; the rest is for
    the operator reading a "held by" message, and for a fenced run deciding what to clean up."""

    token: str
    group_id: str
    host: str
    pid: int
    lease_seconds: float
    created_at: str
    renewed_at: str
    expires_at: str            # informative (holder's clock); expiry is judged on S3's clock
    run_id: str | None = None  # set once the holder planned its offsets
    ranges: list[dict] = field(default_factory=list)
    released: bool = False

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "ClaimBody | None":
        """None when the object is not a claim we can read (then only its age counts)."""
        try:
            raw = json.loads(data)
            names = set(cls.__dataclass_fields__)
            return cls(**{k: v for k, v in raw.items() if k in names})
        except (ValueError, TypeError):
            return None

    def describe(self) -> str:
        plan = f", run {self.run_id}" if self.run_id else ""
        return (f"host {self.host} pid {self.pid} since {self.created_at}{plan}, "
                f"lease until {self.expires_at}")


@dataclass(frozen=True)
class ClaimState:
    """A claim object as read: its body, ETag, and S3's Last-Modified and Date."""

    body: ClaimBody | None
    etag: str
    last_modified: datetime
    server_now: datetime

    # A body we cannot read gets this lease (the longest a newsbeam claim could sensibly have).
    UNREADABLE_LEASE = 3600.0

    @property
    def expires(self) -> datetime:
        lease = self.body.lease_seconds if self.body else self.UNREADABLE_LEASE
        return self.last_modified + timedelta(seconds=lease)

    def free(self) -> bool:
        """Released by its holder, or its lease ran out (by S3's clock)."""
        return bool(self.body and self.body.released) or self.server_now >= self.expires


def claim_key(settings: s3.S3Settings, group_id: str) -> str:
    # Group ids may hold characters that are awkward in keys; keep them readable but safe.
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in group_id)
    return settings.key(CLAIMS_DIR, f"{safe}.json")


def holder_of(settings: s3.S3Settings, group_id: str) -> str | None:
    """Who holds the group's claim now, in words (None: nobody: never taken, or released)."""
    try:
        r = s3.client(settings).get_object(Bucket=settings.bucket, Key=claim_key(settings, group_id))
    except Exception as exc:
        if _missing(exc):
            return None
        raise
    body = ClaimBody.from_json(r["Body"].read())
    if body is None:
        return "an unreadable claim object"
    return None if body.released else body.describe()


def _server_time(response: dict) -> datetime:
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def _precondition_failed(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # 409 ConditionalRequestConflict: a concurrent conditional write on the same key (AWS).
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412)


def _missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404")


class RunClaim:
    """The group's claim, held by this run. Use as a context manager around the whole run::

        with RunClaim(settings, group_id, lease_seconds) as claim:   # ClaimHeld if taken
            ...plan...
            claim.note_plan(run_id, ranges)
            ...write files...
            claim.confirm()          # ClaimLost if taken over
            ...manifest...

    The claim renews itself in a background thread while held.
    """

    def __init__(self, settings: s3.S3Settings, group_id: str, lease_seconds: float, *,
                 clock=time.monotonic):
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self._settings = settings
        self._key = claim_key(settings, group_id)
        self._client = s3.client(settings)
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._etag: str | None = None
        self._confirmed_at = 0.0    # monotonic time a write of ours was last accepted
        self._lost: str | None = None
        now = datetime.now(timezone.utc)
        self.body = ClaimBody(token=uuid.uuid4().hex, group_id=group_id, host=socket.gethostname(),
                              pid=os.getpid(), lease_seconds=float(lease_seconds),
                              created_at=_iso(now), renewed_at=_iso(now),
                              expires_at=_iso(now + timedelta(seconds=lease_seconds)))
        self.took_over: ClaimBody | None = None   # the expired holder this run replaced

    @property
    def key(self) -> str:
        return self._key

    @property
    def lease_seconds(self) -> float:
        return self.body.lease_seconds

    # ------------------------------------------------------------------ S3 calls
    def _read(self) -> ClaimState | None:
        try:
            r = self._client.get_object(Bucket=self._settings.bucket, Key=self._key)
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        return ClaimState(ClaimBody.from_json(r["Body"].read()), r["ETag"],
                          r["LastModified"].astimezone(timezone.utc), _server_time(r))

    def _put(self, body: ClaimBody, **condition) -> str:
        r = self._client.put_object(Bucket=self._settings.bucket, Key=self._key, Body=body.to_json(),
                                    ContentType="application/json", **condition)
        return r["ETag"]

    def _fresh_body(self, **changes) -> ClaimBody:
        now = datetime.now(timezone.utc)
        return replace(self.body, renewed_at=_iso(now),
                       expires_at=_iso(now + timedelta(seconds=self.lease_seconds)), **changes)

    # ------------------------------------------------------------------ acquire / renew / release
    def acquire(self, successor_of: str | None = None) -> "RunClaim":
        """Take the claim or raise ClaimHeld. A few rounds cover a claim released or deleted
        between our read and our write.

        ``successor_of``: the token of a run known to have ended (the previous holder of this
        host's lock file, which we now hold): its claim is taken over without waiting for its
        lease, as when a run was killed or lost S3 before it could release."""
        for _ in range(5):
            started = self._clock()
            body = self._fresh_body()
            try:
                etag = self._put(body, IfNoneMatch="*")
                return self._held(body, etag, started)
            except Exception as exc:
                if not _precondition_failed(exc):
                    raise
            state = self._read()
            if state is None:
                continue  # released and deleted in between: try to create it again
            if state.body and state.body.token == self.body.token:
                # Our create went through but its response was lost (the client retried).
                return self._held(state.body, state.etag, started)
            ended = bool(successor_of and state.body and state.body.token == successor_of)
            if not state.free() and not ended:
                raise ClaimHeld(self._held_message(state), state.body)
            try:
                etag = self._put(body, IfMatch=state.etag)
            except Exception as exc:
                if _precondition_failed(exc):
                    continue  # another run took it first: read again (it is held now)
                raise
            if state.body and not state.body.released:
                self.took_over = state.body
                why = ("which ended on this host without releasing it" if ended
                       else f"whose lease ran out at {_iso(state.expires)}")
                log.warning("run claim %s: took over from %s, %s", self._key, state.body.describe(), why)
            return self._held(body, etag, started)
        state = self._read()
        raise ClaimHeld(self._held_message(state) if state else f"run claim {self._key} keeps changing",
                        state.body if state else None)

    def _held_message(self, state: ClaimState) -> str:
        who = state.body.describe() if state.body else "an unreadable claim"
        return (f"another run of consumer group {self.body.group_id!r} holds "
                f"{self._settings.url(self._key)} ({who}); this run exits without reading anything. "
                f"If that run crashed, its claim expires at {_iso(state.expires)} (S3 time)")

    def _held(self, body: ClaimBody, etag: str, started: float) -> "RunClaim":
        with self._lock:
            self.body, self._etag, self._confirmed_at, self._lost = body, etag, started, None
        self._start_renewing()
        return self

    def renew(self, **changes) -> None:
        """Rewrite the claim if it is still ours; raises ClaimLost when it is not (or when no
        renewal was accepted within a lease, so it may have been taken over)."""
        with self._lock:
            if self._lost:
                raise ClaimLost(self._lost)
            if self._etag is None:
                raise ClaimLost(f"run claim {self._key} is not held")
            started = self._clock()
            body = self._fresh_body(**changes)
            try:
                etag = self._put(body, IfMatch=self._etag)
            except Exception as exc:
                if _precondition_failed(exc):
                    self._lost = self._lost_message()
                    raise ClaimLost(self._lost) from None
                if self._clock() - self._confirmed_at >= self.lease_seconds:
                    self._lost = (f"run claim {self._key} could not be renewed within its lease "
                                  f"({self.lease_seconds:.0f}s): {type(exc).__name__}: {exc}")
                    raise ClaimLost(self._lost) from None
                raise
            self.body, self._etag, self._confirmed_at = body, etag, started

    def _lost_message(self) -> str:
        try:
            state = self._read()
        except Exception:  # only for the message
            state = None
        holder = state.body.describe() if state and state.body else "another run"
        return (f"run claim {self._settings.url(self._key)} was taken over by {holder} after this "
                f"run's lease ({self.lease_seconds:.0f}s) ran out")

    def confirm(self) -> None:
        """The check before publishing: a conditional renew, so the lease is fresh for what
        follows. ClaimLost when this run no longer holds the claim."""
        self.renew()

    def note_plan(self, run_id: str, ranges: list[dict]) -> None:
        """Record the planned offsets in the claim (for the operator, and so a fenced run can
        tell whether the holder writes the same file names as it does)."""
        self.renew(run_id=run_id, ranges=ranges)

    @property
    def lost(self) -> str | None:
        """Why the claim is lost, if the background renewal found out; None while held."""
        return self._lost

    def current_holder(self) -> ClaimBody | None:
        """The claim object as it is now (whoever holds it); None when absent or unreadable."""
        state = self._read()
        return state.body if state else None

    def release(self) -> None:
        """Mark the claim released if it is still ours (never fails the run: an unreleased claim
        only makes the next run wait for the lease)."""
        self._stop_renewing()
        with self._lock:
            if self._etag is None or self._lost:
                return
            try:
                self._put(self._fresh_body(released=True), IfMatch=self._etag)
            except Exception as exc:
                log.warning("run claim %s not released (%s: %s); it expires with its lease",
                            self._key, type(exc).__name__, exc)
            self._etag = None

    # ------------------------------------------------------------------ background renewal
    def _start_renewing(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="run-claim-renewal", daemon=True)
        self._thread.start()

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _renew_loop(self) -> None:
        interval = self.lease_seconds / RENEWALS_PER_LEASE
        while not self._stop.wait(interval):
            try:
                self.renew()
            except ClaimLost as exc:
                log.error("%s", exc)
                return
            except Exception as exc:  # transient: the next tick (or the lease check) decides
                log.warning("run claim %s: renewal failed (%s: %s); retrying", self._key,
                            type(exc).__name__, exc)

    def __enter__(self) -> "RunClaim":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
