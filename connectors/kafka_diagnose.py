"""Why a Kafka client could not connect, in one line an operator can act on.

kafka-python retries a failed TLS handshake or a rejected SASL login until its bootstrap timeout
and then only says "Unable to bootstrap". After such a failure, `connect_failure` checks the
layers itself with the same settings (`kafka.client_config`): TCP, then TLS (as kafka-python sets
it up), and, when both work, names the SASL login as the failing step.
"""
from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Any, Iterable

TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")

# What failed, from the network up.
UNREACHABLE, TLS, PROTOCOL, AUTHENTICATION, CLIENT = "unreachable", "tls", "protocol", "authentication", "client"


@dataclass(frozen=True)
class Diagnosis:
    layer: str   # one of the constants above
    line: str    # the operator's one line

    @property
    def is_configuration(self) -> bool:
        """The settings are wrong (retrying will not help), as opposed to the network or broker."""
        return self.layer in (TLS, PROTOCOL, AUTHENTICATION)


def addresses(bootstrap_servers: str | Iterable[str]) -> list[tuple[str, int]]:
    items = bootstrap_servers.split(",") if isinstance(bootstrap_servers, str) else list(bootstrap_servers)
    out = []
    for item in items:
        host, _, port = item.strip().rpartition(":")
        out.append((host.strip("[]"), int(port)))
    return out


def _tls_context(cfg: dict[str, Any]) -> ssl.SSLContext:
    """The context kafka-python builds from the same ssl_* settings (kafka/net/transport.py)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = cfg.get("ssl_check_hostname", True)
    if cfg.get("ssl_cafile"):
        ctx.load_verify_locations(cfg["ssl_cafile"])
    else:
        ctx.load_default_certs()
    if cfg.get("ssl_certfile"):
        ctx.load_cert_chain(certfile=cfg["ssl_certfile"], keyfile=cfg.get("ssl_keyfile"),
                            password=cfg.get("ssl_password"))
    return ctx


def _tls_problem(host: str, port: int, cfg: dict[str, Any], timeout: float) -> str | None:
    try:
        ctx = _tls_context(cfg)
    except (OSError, ssl.SSLError) as exc:  # unreadable or invalid cafile/certfile
        return f"TLS settings unusable: {exc} (kafka.client_config ssl_cafile / ssl_certfile)"
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host.rstrip(".")):
            return None
    except ssl.SSLCertVerificationError as exc:
        hint = ("kafka.client_config.ssl_cafile names a CA that did not sign it" if cfg.get("ssl_cafile")
                else "set kafka.client_config.ssl_cafile to the CA that signed it")
        return f"TLS certificate of the broker not trusted: {exc.verify_message}; {hint}"
    except ssl.SSLError as exc:
        return f"TLS handshake failed: {exc.reason or exc}"
    except OSError as exc:
        return f"TLS handshake failed: {exc.strerror or type(exc).__name__}"


def _speaks_tls(host: str, port: int, timeout: float) -> bool:
    """A TLS listener answers a ClientHello; a plaintext Kafka listener drops it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, ctx.wrap_socket(raw):
            return True
    except (OSError, ssl.SSLError):
        return False


def _sasl_user(cfg: dict[str, Any]) -> str:
    mechanism = cfg.get("sasl_mechanism") or "PLAIN"
    if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        return f"SASL {mechanism} login as {cfg.get('sasl_plain_username')!r}"
    return f"SASL {mechanism} login"


def _sasl_hint(cfg: dict[str, Any]) -> str:
    mechanism = cfg.get("sasl_mechanism") or "PLAIN"
    if mechanism == "AWS_MSK_IAM":
        return ("check the pod's IAM role (kafka-cluster:Connect on the cluster) and AWS_DEFAULT_REGION; "
                "MSK IAM listens on port 9098")
    return ("wrong username or password, or a mechanism the listener does not enable "
            "(kafka.client_config sasl_mechanism / sasl_plain_username / sasl_plain_password)")


def connect_failure(bootstrap_servers: str | Iterable[str], client_config: dict[str, Any] | None,
                    error: BaseException | None = None, timeout: float = 5.0) -> Diagnosis:
    """One line: what failed between this client and the brokers, for the first address that
    accepts TCP (or why none did). `error` is what the client raised, kept when nothing better
    is found."""
    cfg = dict(client_config or {})
    protocol = str(cfg.get("security_protocol", "PLAINTEXT")).upper()
    listed = ",".join(f"{h}:{p}" for h, p in addresses(bootstrap_servers))
    tcp_errors = []
    for host, port in addresses(bootstrap_servers):
        where = f"Kafka at {host}:{port}"
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as exc:
            tcp_errors.append(exc.strerror or type(exc).__name__)
            continue
        if protocol in TLS_PROTOCOLS:
            problem = _tls_problem(host, port, cfg, timeout)
            if problem:
                return Diagnosis(TLS, f"{where}: {problem}")
        elif _speaks_tls(host, port, timeout):
            return Diagnosis(PROTOCOL, f"{where} expects TLS but kafka.client_config.security_protocol is "
                                       f"{protocol}: set it to SSL or SASL_SSL")
        if protocol in SASL_PROTOCOLS:
            return Diagnosis(AUTHENTICATION, f"{where}: authentication failed: {_sasl_user(cfg)} was refused: "
                                             f"{_sasl_hint(cfg)}")
        detail = f"{type(error).__name__}: {error}" if error is not None else "no answer"
        return Diagnosis(CLIENT, f"{where} accepted the connection but the Kafka client failed ({detail}); "
                                 "check kafka.client_config.security_protocol (the listener may need SASL)")
    return Diagnosis(UNREACHABLE, f"Kafka broker unreachable at {listed}: {'; '.join(tcp_errors) or 'no address'}")
