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
from connectors.feeds.poller import DeadLettered, Unsent

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


# What a stub keeps of the fields that are not emptied: enough to name the entry, never its bulk.
_STUB_TITLE_CHARS = 1000
_STUB_LIST_ITEMS = 20
_STUB_LIST_ITEM_CHARS = 200


def dead_letter_stub(item: FeedItem, reason: str) -> FeedItem:
    """The item with its texts emptied and the reason: small enough for any broker, and the
    run turns it into a `rejects` row (stage `poll`) instead of an article."""
    return replace(item, summary_html="", summary_text="", content_html="", content_text="",
                   title=item.title[:_STUB_TITLE_CHARS],
                   authors=[a[:_STUB_LIST_ITEM_CHARS] for a in item.authors[:_STUB_LIST_ITEMS]],
                   tags=[t[:_STUB_LIST_ITEM_CHARS] for t in item.tags[:_STUB_LIST_ITEMS]],
                   reject_reason=reason)


def too_large_reason(item: FeedItem, size: int, slim_size: int, limit: int | None, exc: Exception) -> str:
    """Why ``item`` went out as a stub, with the sizes an operator needs to raise the limits."""
    texts = {name: len(getattr(item, name)) for name in
             ("content_html", "content_text", "summary_html", "summary_text")}
    where = (f"over the producer's max_request_size {limit:,}" if limit
             else f"refused by the broker ({type(exc).__name__})")
    return (f"too large for Kafka: {size:,} bytes serialized ({slim_size:,} without its HTML), {where}; "
            "texts dropped (" + ", ".join(f"{k} {v:,} chars" for k, v in texts.items() if v) + ")")


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

    def send_items(self, items: Iterable[FeedItem]) -> list[Unsent | DeadLettered]:
        """Send items and wait for every acknowledgement; raises KafkaUnavailable on failure.

        A record over the size limit can never succeed as it is. It is sent again without its
        HTML (``content_html``, ``summary_html``: the sanitised markup the plain text fields were
        made from, usually the larger half). One still too large goes out as a dead-letter stub
        (`dead_letter_stub`: texts emptied, the reason with the sizes), which the run writes to
        `rejects` at stage `poll`; it comes back as ``DeadLettered``, for the poller to count as
        rejected, not new. Only a stub the broker refuses too comes back as ``Unsent``."""
        outcomes: list[Unsent | DeadLettered] = []
        try:
            originals = {}
            too_large = self._deliver(list(items))
            for item, size, _, _ in too_large:
                originals[item.item_id] = (item, size)
            slimmed = [replace(item, content_html="", summary_html="") for item, *_ in too_large]
            still = self._deliver(slimmed)
            for item in slimmed:
                if item.item_id not in {i.item_id for i, *_ in still}:
                    log.info("item %s sent without its HTML: the record was too large", item.item_id)
            stubs = []
            for slim, slim_size, limit, exc in still:
                original, size = originals[slim.item_id]
                stubs.append(dead_letter_stub(original, too_large_reason(original, size, slim_size, limit, exc)))
            refused = {stub.item_id: size for stub, size, _, _ in self._deliver(stubs)}
            for stub in stubs:
                if stub.item_id in refused:
                    outcomes.append(Unsent(stub.item_id, f"too large for Kafka even as a "
                                                         f"{refused[stub.item_id]:,}-byte dead-letter stub; "
                                                         f"{stub.reject_reason}"))
                else:
                    log.warning("item %s produced as a dead-letter stub: %s", stub.item_id, stub.reject_reason)
                    outcomes.append(DeadLettered(stub.item_id, stub.reject_reason))
        except AuthorizationError as exc:
            raise KafkaUnavailable(
                f"Kafka denied producing to topic {self.topic!r} at {_addresses(self.bootstrap_servers)}: "
                f"{type(exc).__name__}; the poller's principal needs WRITE and DESCRIBE on the topic "
                "(`newsbeam kafka acls` prints them)") from exc
        except KafkaError as exc:
            raise KafkaUnavailable(
                f"Kafka did not acknowledge items on topic {self.topic!r} at "
                f"{_addresses(self.bootstrap_servers)}: {type(exc).__name__}: {exc}") from exc
        return outcomes

    def _deliver(self, items: list[FeedItem]) -> list[tuple]:
        """Send the items and wait for their acknowledgements; returns those too large, as
        (item, serialized size, max_request_size or None when the broker refused it, error)."""
        pending, too_large = [], []
        for item in items:
            value = item.to_json().encode("utf-8")
            try:
                pending.append((item, len(value), self._producer.send(
                    self.topic, key=item.item_id.encode("utf-8"), value=value)))
            except MessageSizeTooLargeError as exc:  # kafka-python 3 checks max_request_size in send()
                too_large.append((item, len(value), self._producer.config.get("max_request_size"), exc))
        if pending:
            self._producer.flush(timeout=self._ack_timeout_s)
        for item, size, future in pending:
            try:
                future.get(timeout=self._ack_timeout_s)
            except MessageSizeTooLargeError as exc:  # the broker's limit is lower than ours
                too_large.append((item, size, None, exc))
        return too_large

    __call__ = send_items  # the poller's sink interface: sink(items)

    def close(self) -> None:
        self._producer.close(timeout=self._ack_timeout_s)

    def __enter__(self) -> "ItemProducer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _addresses(bootstrap_servers: str | list[str]) -> str:
    return bootstrap_servers if isinstance(bootstrap_servers, str) else ",".join(bootstrap_servers)
