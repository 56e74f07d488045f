"""The continuous loop's own logic (pipeline/continuous.py): when it runs a micro-batch, how it
caps one, how it waits, backs off and stops. The real Kafka / S3 path is in
tests/integration/test_continuous_mode.py."""
import threading

import pytest

from connectors.errors import KafkaUnavailable, S3Unavailable
from pipeline.config import Config
from pipeline.continuous import Backoff, batch_config, serve
from pipeline.run import RunSummary


def _config(**pipeline) -> Config:
    config = Config()
    return config.model_copy(update={"pipeline": config.pipeline.model_copy(update=pipeline)})


def test_the_smaller_of_both_caps_bounds_a_micro_batch():
    assert batch_config(_config(continuous_batch_records=500, max_records_per_run=None)).pipeline.max_records_per_run == 500
    assert batch_config(_config(continuous_batch_records=500, max_records_per_run=200)).pipeline.max_records_per_run == 200
    assert batch_config(_config(continuous_batch_records=50, max_records_per_run=2500)).pipeline.max_records_per_run == 50


def test_backoff_doubles_to_five_minutes_and_resets():
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    backoff.reset()
    assert backoff.next() == 5


class Watch:
    """Backlog sizes to report, one per look; stops the loop when they run out."""

    def __init__(self, sizes, stop):
        self.sizes, self.stop, self.looks, self.closed = list(sizes), stop, 0, False

    def waiting(self):
        self.looks += 1
        if not self.sizes:
            self.stop.set()
            return 0
        size = self.sizes.pop(0)
        if isinstance(size, Exception):
            raise size
        return size

    def close(self):
        self.closed = True


class Stop(threading.Event):
    """Records how long the loop asked to wait, without waiting."""

    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return self.is_set()


def test_runs_a_micro_batch_only_when_records_wait_and_idles_between():
    stop = Stop()
    watch = Watch([0, 0, 3, 0, 2], stop)
    configs, seen = [], []

    def execute(config, beam_args):
        configs.append(config.pipeline.max_records_per_run)
        return RunSummary("written", run_id=f"r{len(configs)}", records=3)

    written = serve(_config(continuous_batch_records=7, continuous_idle_seconds=1.5), [], stop,
                    on_run=seen.append, execute=execute, watch=watch)
    assert written == 2 and configs == [7, 7] and [s.run_id for s in seen] == ["r1", "r2"]
    assert stop.waits == [1.5, 1.5, 1.5, 1.5]  # idle looks only: a batch is followed by a look
    assert watch.closed


def test_a_failed_micro_batch_is_retried_after_a_backoff_not_fatal():
    stop = Stop()
    watch = Watch([KafkaUnavailable("broker down"), 1, 1, 1], stop)
    outcomes = [S3Unavailable("S3 down"), RunSummary("written", records=1), RunSummary("written", records=1)]

    def execute(config, beam_args):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    written = serve(_config(continuous_idle_seconds=2), [], stop, execute=execute, watch=watch)
    assert written == 2
    assert stop.waits[:2] == [5, 10]  # Kafka look failed, then the batch failed: backing off
    assert stop.waits[2:] == [2]       # after a success: back to idle looks


def test_a_stop_before_the_next_look_ends_the_loop():
    stop = Stop()
    stop.set()
    watch = Watch([5], stop)
    assert serve(_config(), [], stop, execute=pytest.fail, watch=watch) == 0
    assert watch.looks == 0 and watch.closed
