"""`newsbeam run --continuous`: one long-lived process, micro-batches whenever records wait.

A scheduled `newsbeam run` pays, every time, for starting Python and Beam, loading spaCy, the
language detector and the learned models - seconds before the first record moves - and an
analyst waits for the next schedule on top. Here one process loads all of it once and then:

    loop until SIGTERM / SIGINT:
        records waiting for the consumer group?  (BacklogWatch: two small Kafka requests)
          no  -> sleep continuous_idle_seconds (woken at once by a stop signal)
          yes -> one bounded run: pipeline.run.execute with max_records_per_run capped by
                 continuous_batch_records - the same exactly-once protocol, run id, manifest,
                 alerts and offset commit as a scheduled run
        a failed micro-batch (Kafka, S3, another run holding the lock or the claim) is logged
        and retried after a backoff (5 s doubling to 5 min); nothing was committed for it

Beam's DirectRunner runs in this process by default, so every micro-batch's NLP step finds the
model already loaded (transforms/nlp.py caches it per process); with
``--direct_running_mode=multi_processing`` each micro-batch would start fresh workers and load
it again, which is why that mode is not the default here.

A stop signal ends the loop between micro-batches: a batch in flight finishes (files, manifest,
alerts, commit) first. A second signal stops at once, like a crash: the next run cleans up and
reprocesses what was not committed. Give the supervisor a stop timeout longer than one
micro-batch (deploy/systemd/newsbeam-run-continuous.service, deploy/k8s/run-continuous.yaml).
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable

from connectors.errors import OperatorError
from connectors.kafka_source import BacklogWatch, KafkaSettings
from pipeline.config import Config

log = logging.getLogger(__name__)
BACKOFF_FIRST_S, BACKOFF_MAX_S = 5.0, 300.0


@dataclass
class Backoff:
    """Seconds to wait after each consecutive failure: 5, 10, 20 ... at most 300."""

    failures: int = 0

    def next(self) -> float:
        self.failures += 1
        return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.failures - 1))

    def reset(self) -> None:
        self.failures = 0


def batch_config(config: Config) -> Config:
    """The configuration of one micro-batch: max_records_per_run capped by
    continuous_batch_records (both keys apply; the smaller wins)."""
    cap = config.pipeline.continuous_batch_records
    if config.pipeline.max_records_per_run is not None:
        cap = min(cap, config.pipeline.max_records_per_run)
    return config.model_copy(update={"pipeline": config.pipeline.model_copy(
        update={"max_records_per_run": cap})})


def warm_up(config: Config) -> None:
    """Load what every micro-batch's steps load, once, in this process."""
    from transforms.extraction_models import ExtractionModels
    from transforms.language import detector
    from transforms.leaders import default_gazetteer, load_gazetteer
    from transforms.nlp import load_nlp

    if config.pipeline.nlp_enabled:
        for model in sorted(set(config.nlp.language_models().values())):
            load_nlp(model)
        ExtractionModels.default()
        load_gazetteer(config.nlp.leaders_file) if config.nlp.leaders_file else default_gazetteer()
    detector()


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM / SIGINT: finish the micro-batch in flight, then stop; a second one: stop now."""
    def handler(signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: stopping mid-batch")
        log.warning("%s: stopping after the micro-batch in flight", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def serve(config: Config, beam_args: list[str] | None, stop: threading.Event,
          on_run: Callable = lambda summary: None, execute: Callable | None = None,
          watch: BacklogWatch | None = None) -> int:
    """Micro-batches until ``stop`` is set; returns how many batches wrote something.

    ``execute``: one run (default ``pipeline.run.execute``); ``watch``: the backlog probe."""
    if execute is None:
        from pipeline.run import execute
    watch = watch or BacklogWatch(KafkaSettings.from_config(config.kafka))
    per_batch = batch_config(config)
    idle = config.pipeline.continuous_idle_seconds
    backoff, written = Backoff(), 0
    try:
        while not stop.is_set():
            try:
                if watch.waiting() == 0:
                    stop.wait(idle)
                    continue
                started = time.monotonic()
                summary = execute(per_batch, beam_args)
                log.info("micro-batch: %s records in %.1f s", summary.records, time.monotonic() - started)
                on_run(summary)
                backoff.reset()
                written += summary.status == "written"
            except OperatorError as exc:
                wait = backoff.next()
                log.error("micro-batch failed (exit status %d if this were a scheduled run): %s; "
                          "retrying in %.0f s", exc.exit_code, exc, wait)
                stop.wait(wait)
    finally:
        watch.close()
    return written
