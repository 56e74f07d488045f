"""connectors.single_writer: one writer per SQLite state file, enforced with flock, a clear
error for the second, released when the holder exits (also when it is killed)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.alerts.ledger import SqliteLedger
from connectors.single_writer import SingleWriter, WriterLockHeld

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from connectors.single_writer import SingleWriter
held = SingleWriter(sys.argv[1], "poll state", "hint").acquire()  # kept: closing the file frees the lock
print("held", flush=True)
time.sleep(120)
"""


def test_second_writer_is_refused_and_named(tmp_path):
    state = tmp_path / "poll-state.sqlite"
    with SingleWriter(state, "poll state", "one poller per state file"):
        with pytest.raises(WriterLockHeld) as err:
            SingleWriter(state, "poll state", "one poller per state file").acquire()
    line = str(err.value)
    assert "\n" not in line
    assert line.startswith(f"poll state {state} is in use by pid {os.getpid()} on host {socket.gethostname()} since ")
    assert line.endswith("only one writer at a time: one poller per state file")
    # Released: the next writer gets it.
    SingleWriter(state, "poll state", "x").acquire().release()


def test_lock_of_a_killed_process_is_free(tmp_path):
    state = tmp_path / "s.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WriterLockHeld, match=f"pid {holder.pid} on host"):
            SingleWriter(state, "poll state", "x").acquire()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the flock with the process
        try:
            SingleWriter(state, "poll state", "x").acquire().release()
            break
        except WriterLockHeld:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_exclusive_ledger_has_one_writer_and_any_readers(tmp_path):
    path = tmp_path / "alerts.sqlite"
    writer = SqliteLedger(path, exclusive=True)
    try:
        with pytest.raises(WriterLockHeld, match="alert ledger .* is in use by pid"):
            SqliteLedger(path, exclusive=True)
        reader = SqliteLedger(path)     # `newsbeam alerts list` reads while a run writes
        assert reader.recent(5) == []
        reader.close()
    finally:
        writer.close()
    SqliteLedger(path, exclusive=True).close()
