"""Run one function in a spawned process and hand back its result or its error, typed.

`newsbeam run` drains a backlog one capped run at a time, each in a fresh process, so whatever
memory a run takes is returned when it exits (pipeline/run.py). The function is named by
"module:function" and imported in the child only after `log_setup` ran, so logging is
configured before anything imports Apache Beam (which logs on import). This module imports
nothing of the code it runs.
"""
from __future__ import annotations

import importlib
import multiprocessing

from connectors.errors import OperatorError, RunFailed


def die_with_parent() -> None:
    """Linux: if `newsbeam run` is killed (even SIGKILL), its run process is killed too, so no
    orphan keeps writing while the next run cleans up."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def no_log_setup() -> None:
    """Default log set-up of a spawned process: none (a module-level function, so it pickles)."""


def _child(conn, target: str, args: tuple, kwargs: dict, log_setup) -> None:
    die_with_parent()
    log_setup()
    try:
        module, _, name = target.partition(":")
        result = getattr(importlib.import_module(module), name)(*args, **kwargs)
        conn.send(("ok", result))
    except OperatorError as exc:  # crosses the process boundary as itself: the type is the interface
        conn.send(("error", exc))
    except BaseException as exc:  # a bug: reported by the parent as one line
        conn.send(("error", RunFailed(f"{type(exc).__name__}: {exc}".splitlines()[0])))
    finally:
        conn.close()


def run_in_fresh_process(target: str, args: tuple = (), kwargs: dict | None = None,
                         log_setup=no_log_setup):
    """`target(*args, **kwargs)` ("module:function") in a spawned process; returns its result or
    raises its OperatorError (RunFailed when the process died without answering)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, target, args, kwargs or {}, log_setup))
    proc.start()
    child.close()
    try:
        kind, value = parent.recv()
    except EOFError:
        proc.join()
        raise RunFailed(f"run process died (exit code {proc.exitcode}); offsets of unfinished work "
                        "were not committed, the next run retries it") from None
    proc.join()
    if kind == "error":
        raise value
    return value
