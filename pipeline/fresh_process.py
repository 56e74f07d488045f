"""The body of a run in a spawned process (pipeline.run.execute_in_fresh_process).

Kept apart from pipeline/run.py so the spawned process configures logging before anything
imports Apache Beam (which logs on import).
"""
from __future__ import annotations


def die_with_parent() -> None:
    """Linux: if `newsbeam run` is killed (even SIGKILL), its run process is killed too, so no
    orphan keeps writing while the next run cleans up."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def execute_child(conn, config, beam_args, since, offsets, log_setup) -> None:
    die_with_parent()
    log_setup()
    from pipeline.run import RunError, execute

    try:
        conn.send(("ok", execute(config, beam_args, since=since, offsets=offsets)))
    except RunError as exc:
        conn.send(("error", str(exc)))
    except BaseException as exc:  # reported by the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0]))
    finally:
        conn.close()
