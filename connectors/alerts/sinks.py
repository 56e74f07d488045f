"""Alert sinks: Slack-compatible webhook, signed JSON webhook, Kafka topic, SMTP e-mail.

Each sink sends one Alert per `send` call and raises `DeliveryError` on failure; retries,
backoff and bookkeeping live in `retry.py` and `dispatch.py`. Error texts never include URLs
(Slack webhook URLs carry their token) nor secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import requests

from connectors.alerts.config import AlertsConfig, KafkaSink, SinkConfig, SlackSink, SmtpSink, WebhookSink
from connectors.alerts.message import Alert, email_body, email_subject, json_body, message_id, slack_payload
from connectors.alerts.ratelimit import TokenBucket, bucket_for
from connectors.alerts.retry import DeliveryError, parse_retry_after

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Newsbeam-Signature"
TIMESTAMP_HEADER = "X-Newsbeam-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(body: bytes, secret: bytes) -> str:
    """Value of the X-Newsbeam-Signature header for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str, secret: bytes) -> bool:
    """For receivers: does `header` (X-Newsbeam-Signature) sign exactly `body` with `secret`?"""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())


def encode_json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Sink:
    """One configured destination. `idempotent` says whether the receiving end can drop a
    repeated delivery (decides crash recovery, see dispatch.recover_pending)."""

    idempotent = False

    def __init__(self, name: str, bucket: TokenBucket | None, timeout: float) -> None:
        self.name = name
        self._bucket = bucket
        self._timeout = timeout

    def send(self, alert: Alert) -> None:
        if self._bucket is not None:
            self._bucket.acquire()
        self._send(alert)

    def _send(self, alert: Alert) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the sink may not be used afterwards."""


def _raise_for_http(response: requests.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429 or status == 408 or status >= 500:
        raise DeliveryError(f"HTTP {status}", retryable=True, retry_after=retry_after)
    raise DeliveryError(f"HTTP {status}: {response.text[:200]}", retryable=False)


class _HttpSink(Sink):
    def __init__(self, name: str, url: str, bucket: TokenBucket | None, timeout: float) -> None:
        super().__init__(name, bucket, timeout)
        self._url = url
        self._session = requests.Session()

    def _post(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            response = self._session.post(
                self._url, data=body, headers={"Content-Type": "application/json", **headers},
                timeout=self._timeout, allow_redirects=False,  # a redirected POST would become a bodiless GET
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            # The exception text repeats the URL; keep only the kind of failure.
            raise DeliveryError(f"connection failed: {type(exc).__name__}", retryable=True) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"request failed: {type(exc).__name__}", retryable=False) from None
        with response:
            _raise_for_http(response)

    def close(self) -> None:
        self._session.close()


class SlackWebhookSink(_HttpSink):
    """Slack (or Mattermost/Rocket.Chat) incoming webhook. They keep no idempotency key."""

    def _send(self, alert: Alert) -> None:
        self._post(encode_json(slack_payload(alert)), {})


class JsonWebhookSink(_HttpSink):
    """Generic JSON POST, HMAC-signed, with an Idempotency-Key receivers can dedupe on."""

    idempotent = True

    def __init__(self, config: WebhookSink, bucket: TokenBucket | None, timeout: float) -> None:
        super().__init__(config.name, config.url, bucket, timeout)
        self._config = config

    def _send(self, alert: Alert) -> None:
        now = _utc_now()
        body = encode_json(json_body(alert, now.strftime("%Y-%m-%dT%H:%M:%SZ")))
        headers = {IDEMPOTENCY_HEADER: alert.idempotency_key, TIMESTAMP_HEADER: str(int(now.timestamp()))}
        try:
            secret = self._config.secret()
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"signing secret unavailable: {type(exc).__name__}", retryable=False) from None
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, secret)
        self._post(body, headers)


class KafkaTopicSink(Sink):
    """Produces the JSON body keyed by `statement_id:rule` with acks=all; consumers (or a
    compacted topic) dedupe on the key."""

    idempotent = True

    def __init__(self, config: KafkaSink, bucket: TokenBucket | None, timeout: float) -> None:
        super().__init__(config.name, bucket, timeout)
        self._config = config
        self._producer = None

    def _producer_or_connect(self):
        if self._producer is None:
            from kafka import KafkaProducer  # imported lazily: only Kafka sinks need the client

            settings = {
                "request_timeout_ms": int(self._timeout * 1000),
                "max_block_ms": int(self._timeout * 1000),
                "bootstrap_timeout_ms": int(self._timeout * 1000),
                **self._config.producer_config(),
                "bootstrap_servers": self._config.bootstrap_servers,
                "acks": "all",
            }
            self._producer = KafkaProducer(**settings)
        return self._producer

    def _send(self, alert: Alert) -> None:
        from kafka.errors import AuthorizationError, KafkaError

        from connectors.kafka_diagnose import connect_failure

        body = encode_json(json_body(alert, _utc_now().strftime("%Y-%m-%dT%H:%M:%SZ")))
        try:
            producer = self._producer_or_connect()
        except ValueError as exc:  # password_env unset
            raise DeliveryError(f"kafka: {exc}", retryable=False) from None
        except KafkaError as exc:
            # The client only says "Unable to bootstrap": name the failing layer (TCP, TLS, login).
            found = connect_failure(self._config.bootstrap_servers, self._config.producer_config(), exc)
            raise DeliveryError(f"kafka: {found.line}", retryable=not found.is_configuration) from None
        try:
            producer.send(self._config.topic, key=alert.idempotency_key.encode(), value=body).get(
                timeout=self._timeout
            )
        except AuthorizationError as exc:
            raise DeliveryError(f"kafka: denied producing to topic {self._config.topic!r}: {type(exc).__name__}; "
                                "the alert sink's principal needs WRITE and DESCRIBE on it", retryable=False) from None
        except KafkaError as exc:
            raise DeliveryError(f"kafka: {type(exc).__name__}: {exc}", retryable=True) from None

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self._timeout)
            self._producer = None


def _smtp_code_retryable(code: int) -> bool:
    return 400 <= code < 500


class SmtpEmailSink(Sink):
    """One e-mail per alert. The Message-ID is derived from the idempotency key, but mail
    servers do not dedupe on it, so this sink counts as not idempotent."""

    def __init__(self, config: SmtpSink, bucket: TokenBucket | None, timeout: float) -> None:
        super().__init__(config.name, bucket, timeout)
        self._config = config

    def build_message(self, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = email_subject(alert)
        msg["From"] = self._config.from_addr
        msg["To"] = ", ".join(self._config.to_addrs)
        msg["Date"] = format_datetime(_utc_now())
        msg["Message-ID"] = message_id(alert.idempotency_key)
        msg["X-Newsbeam-Idempotency-Key"] = alert.idempotency_key
        msg.set_content(email_body(alert))
        return msg

    def _send(self, alert: Alert) -> None:
        cfg = self._config
        try:
            password = cfg.password()
        except ValueError as exc:
            raise DeliveryError(str(exc), retryable=False) from None
        message = self.build_message(alert)
        try:
            with smtplib.SMTP(cfg.host, cfg.port, timeout=self._timeout) as smtp:
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.username:
                    smtp.login(cfg.username, password or "")
                refused = smtp.send_message(message, from_addr=cfg.from_addr, to_addrs=cfg.to_addrs)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"smtp: all recipients refused {codes}", retryable=all(map(_smtp_code_retryable, codes))) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"smtp: {exc.smtp_code}", retryable=_smtp_code_retryable(exc.smtp_code)) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"smtp: {exc}", retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}", retryable=True) from None
        if refused:
            # Some recipients got it; resending would duplicate theirs, so report and move on.
            log.warning("alert %s via %s: %d recipient(s) refused", alert.idempotency_key, self.name, len(refused))


def build_sink(sink: SinkConfig, config: AlertsConfig) -> Sink:
    bucket = bucket_for(sink.rate_per_minute, sink.burst)
    timeout = config.timeout_seconds
    if isinstance(sink, SlackSink):
        return SlackWebhookSink(sink.name, sink.url, bucket, timeout)
    if isinstance(sink, WebhookSink):
        return JsonWebhookSink(sink, bucket, timeout)
    if isinstance(sink, KafkaSink):
        return KafkaTopicSink(sink, bucket, timeout)
    if isinstance(sink, SmtpSink):
        return SmtpEmailSink(sink, bucket, timeout)
    raise TypeError(f"unsupported sink type {type(sink).__name__}")


def build_sinks(config: AlertsConfig) -> dict[str, Sink]:
    return {sink.name: build_sink(sink, config) for sink in config.sinks}


def close_all(sinks: dict[str, Sink]) -> None:
    for sink in sinks.values():
        try:
            sink.close()
        except Exception:  # closing must never fail the pipeline
            log.warning("closing alert sink %s failed", sink.name, exc_info=True)

