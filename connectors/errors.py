"""Errors an operator must act on: one hierarchy, each class with its exit status.

Everything newsbeam raises for "the operator must do something" derives from `OperatorError`;
the CLI prints its message (one line, or one line per problem for configuration) and exits with
the class's `exit_code`. docs/operations.md lists the codes. Anything else is a bug and keeps
its traceback.

Errors that happen inside a Beam worker may reach the launcher as text only (portable runners
and multi-process workers send the worker's traceback as a string): `from_failure` maps that
text back to the class, in one place, instead of callers searching for phrases.
"""
from __future__ import annotations

import re

EXIT_OK = 0


class OperatorError(Exception):
    """Base: a one-line reason worded for the operator. `exit_code` is the process status."""

    exit_code = 1


class RunFailed(OperatorError):
    """A run stopped before it finished; offsets were not committed, the next run retries."""

    exit_code = 1


class CountersMissing(RunFailed):
    """The Beam job finished without writing the run's counters (names the object): the engine
    did not run every step of the job."""


class WorkerLost(RunFailed):
    """A worker process of the engine running the job died mid-run (killed, out of memory);
    names the worker. Nothing of the run is committed, the next run retries its records."""


class ConfigError(OperatorError):
    """The configuration (file, environment, flags) is invalid: one line per problem."""

    exit_code = 2


class UsageError(ConfigError):
    """A command-line mistake: an unknown option, a malformed value."""


class QueryError(UsageError):
    """The SQL of `newsbeam query` failed (syntax, unknown table or column, a type error): DuckDB's
    one-line reason."""


class InputError(UsageError):
    """A command's input cannot be read: a missing file, a line that is not the JSON expected."""


class KafkaUnavailable(OperatorError):
    """The Kafka broker could not be reached or did not answer; names the bootstrap address."""

    exit_code = 3


class KafkaAccessDenied(KafkaUnavailable):
    """The broker refused an operation to this principal (ACLs); the message names what it needs."""


class S3Unavailable(OperatorError):
    """S3 could not be reached or refused a call; names the endpoint and bucket."""

    exit_code = 4


class S3BucketMissing(S3Unavailable):
    """The bucket does not exist at that endpoint (S3 answered NoSuchBucket)."""


class S3AccessDenied(S3Unavailable):
    """S3 refused the credentials (unknown key, wrong secret, expired token) or they lack a
    permission the operation needs; also: no credentials found at all."""


class S3DeleteError(S3Unavailable):
    """Objects S3 did not delete. DeleteObjects answers HTTP 200 and lists per-key ``Errors``
    (e.g. AccessDenied when the role lacks s3:DeleteObject), so success must be read from the
    body. ``failed``: (key, code, message) of every object left in place."""

    def __init__(self, message: str, failed: list[tuple[str, str, str]] | tuple = ()):
        super().__init__(message)
        self.failed = list(failed)


class RunLocked(OperatorError):
    """Another process holds the lock this one needs (a run the run lock, a poller its state
    file); this one read nothing and changed nothing."""

    exit_code = 5


class ClaimHeld(RunLocked):
    """Another run of the same consumer group holds its run claim on S3 (connectors/run_claim.py),
    from this host or another; this one read nothing and changed nothing. ``holder``: the claim's
    body as read (None when unreadable)."""

    def __init__(self, message: str, holder=None):
        super().__init__(message)
        self.holder = holder


class AlertsFailed(OperatorError):
    """Rows are written and offsets committed, but some alerts were not delivered; they stay in
    the alert ledger and are retried by the next run or `newsbeam alerts retry`."""

    exit_code = 6


class RunFenced(OperatorError):
    """This run lost the consumer group's claim, or the group's offsets moved under it: another
    run took over these records, so this one published nothing more (its message says what it
    left and who finishes). Offsets not committed by this run."""

    exit_code = 7


class ClaimLost(RunFenced):
    """This run's claim was taken over (its lease ran out) or could not be renewed within its
    lease: another run may be processing the same offsets, so this one must not publish."""


class CatalogError(OperatorError):
    """The Iceberg catalog (iceberg: section) did not answer, refused, or holds a table newsbeam
    cannot register into. The plain Parquet layout and its manifests are written; the offsets are
    not committed, so the next run registers the same runs (docs/schema.md, *Iceberg tables*)."""

    exit_code = 8


class CatalogUnavailable(CatalogError):
    """The catalog could not be reached, or refused a call (credentials, rights, a lost commit race
    retried too often); names the catalog."""


class TableSchemaConflict(CatalogError):
    """An Iceberg table has a column whose type differs from newsbeam's (connectors/tables.py):
    newsbeam only ever adds columns, so someone changed the table by hand."""


def _classes() -> list[type[OperatorError]]:
    out, todo = [], [OperatorError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    # most specific first, so "UsageError" wins over "ConfigError" and "OperatorError"
    return sorted(out, key=lambda c: -len(c.__mro__))


def from_failure(exc: BaseException) -> OperatorError | None:
    """The `OperatorError` behind a failure, or None when it is not one of ours.

    First by type, along the exception's causes (the in-process runners keep the worker's
    exception). Then, when a runner only hands back the worker's traceback as text, by the class
    name that traceback prints (`connectors.errors.S3Unavailable: S3 write failed ...`): the
    last such line is the innermost error, and its message runs to the end of that line.
    """
    seen = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, OperatorError):
            return node
        engine = _engine_failure(node)
        if engine is not None:
            return engine
        node = node.__cause__ or node.__context__
    text = str(exc)
    best: tuple[int, OperatorError] | None = None
    for cls in _classes():
        for m in re.finditer(rf"(?:^|[\s.']){cls.__name__}: ([^\n]*)", text):
            message = m.group(1).strip()
            # Beam appends " [while running 'Step']" to worker errors: not part of our reason.
            message = re.sub(r"\s*\[while running '[^']*'\]\s*$", "", message).strip("'\" ")
            if best is None or m.start() > best[0]:
                best = (m.start(), cls(message))
    return best[1] if best else None


def _engine_failure(exc: BaseException) -> OperatorError | None:
    """An engine's own exception that has a meaning for the operator, by its type (module and
    name: importing the engine here would load it into every process)."""
    cls = type(exc)
    if cls.__name__ == "KilledWorker" and cls.__module__.split(".")[0] == "distributed":
        # dask.distributed: the workers that ran a task all died while running it
        last = exc.args[1] if len(exc.args) > 1 else None
        address = getattr(last, "address", last if isinstance(last, str) else None)
        return WorkerLost("a Dask worker died while running part of the job (KilledWorker"
                          + (f", last on {address}" if address else "") + "; see that worker's log)")
    return None
