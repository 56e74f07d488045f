"""Produce `FeedItem`s to Kafka; a call returns only once the broker acknowledged what it sent."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Iterable

from kafka import KafkaProducer
from kafka.errors import AuthorizationError, KafkaError, MessageSizeTooLargeError

from connectors.errors import KafkaUnavailable
from connectors.feeds.item import FeedItem
from connectors.kafka_diagnose import connect_failure
from connectors.feeds.poller import Unsent

log = logging.getLogger(__name__)

# Safe defaults; anything in `client_config` overrides them (kafka-python argument names).
_DEFAULTS = {
    "acks": "all",
    "enable_idempotence": True,   # supported (and default) in kafka-python 3; needs acks=all, retries
    "retries": 5,
    "max_in_flight_requests_per_connection": 5,
    "compression_type": "gzip",
    "linger_ms": 20,
    "request_timeout_ms": 30_000,
    "max_block_ms": 30_000,
    "bootstrap_timeout_ms": 10_000,  # fail fast with a clear message when no broker answers
}


class ItemProducer:
    def __init__(self, bootstrap_servers: str | list[str], topic: str, client_config: dict | None = None,
                 ack_timeout_s: float = 60.0) -> None:
        self.topic = topic
        self.bootstrap_servers = bootstrap_servers
        self._ack_timeout_s = ack_timeout_s
        config = {**_DEFAULTS, **(client_config or {})}
        try:
            self._producer = KafkaProducer(bootstrap_servers=bootstrap_servers, **config)
        except KafkaError as exc:  # kafka-python 3 has no NoBrokersAvailable; a connection/timeout error
            # It says "Unable to bootstrap" whatever failed: find out whether TCP, TLS or the login.
            raise KafkaUnavailable(connect_failure(bootstrap_servers, config, exc).line) from None

    def send_items(self, items: Iterable[FeedItem]) -> list[Unsent]:
        """Send items and wait for every acknowledgement; raises KafkaUnavailable on failure.

        A record over the size limit can never succeed as it is. It is sent again without its
        HTML (``content_html``, ``summary_html``: the sanitised markup the plain text fields were
        made from, usually the larger half); one still too large is returned as ``Unsent`` with
        the reason, for the poller to count, instead of failing every later cycle for its feed."""
        unsent: list[Unsent] = []
        try:
            pending = [(item, self._send(item)) for item in items]
            self._producer.flush(timeout=self._ack_timeout_s)
            slimmed = []
            for item, future in pending:
                if isinstance(future, MessageSizeTooLargeError) or not self._acknowledged(future):
                    slimmed.append((item, self._send(replace(item, content_html="", summary_html=""))))
            self._producer.flush(timeout=self._ack_timeout_s)
            for item, future in slimmed:
                if isinstance(future, MessageSizeTooLargeError) or not self._acknowledged(future):
                    error = future if isinstance(future, MessageSizeTooLargeError) else self._size_error
                    unsent.append(Unsent(item.item_id, f"record too large for Kafka even without its HTML "
                                                       f"({len(item.to_json().encode('utf-8'))} bytes): {error}"))
                else:
                    log.info("item %s sent without its HTML: the record was too large", item.item_id)
        except AuthorizationError as exc:
            raise KafkaUnavailable(
                f"Kafka denied producing to topic {self.topic!r} at {_addresses(self.bootstrap_servers)}: "
                f"{type(exc).__name__}; the poller's principal needs WRITE and DESCRIBE on the topic "
                "(`newsbeam kafka acls` prints them)") from exc
        except KafkaError as exc:
            raise KafkaUnavailable(
                f"Kafka did not acknowledge items on topic {self.topic!r} at "
                f"{_addresses(self.bootstrap_servers)}: {type(exc).__name__}: {exc}") from exc
        return unsent

    def _send(self, item: FeedItem):
        """The send future, or the size error kafka-python 3 raises in send() itself."""
        try:
            return self._producer.send(self.topic, key=item.item_id.encode("utf-8"),
                                       value=item.to_json().encode("utf-8"))
        except MessageSizeTooLargeError as exc:
            return exc

    def _acknowledged(self, future) -> bool:
        """True once the broker acknowledged; False for a size error (kept in _size_error)."""
        try:
            future.get(timeout=self._ack_timeout_s)
            return True
        except MessageSizeTooLargeError as exc:
            self._size_error = exc
            return False

    __call__ = send_items  # the poller's sink interface: sink(items)

    def close(self) -> None:
        self._producer.close(timeout=self._ack_timeout_s)

    def __enter__(self) -> "ItemProducer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _addresses(bootstrap_servers: str | list[str]) -> str:
    return bootstrap_servers if isinstance(bootstrap_servers, str) else ",".join(bootstrap_servers)
