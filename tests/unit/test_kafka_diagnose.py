"""connectors.kafka_diagnose on loopback listeners made here (the SASL_SSL broker test covers a
real broker): each layer that fails is named, with the setting to look at."""
from __future__ import annotations

import socket
import threading

import pytest

from connectors.kafka_diagnose import CLIENT, TLS, UNREACHABLE, addresses, connect_failure


@pytest.fixture
def plain_listener():
    """Accepts TCP and closes at once: neither TLS nor Kafka."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    server.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_addresses_parse_lists_and_ipv6():
    assert addresses("a:1, b:2") == [("a", 1), ("b", 2)]
    assert addresses(["[::1]:9092"]) == [("::1", 9092)]


def test_nothing_listening_is_unreachable():
    port = _closed_port()
    found = connect_failure(f"127.0.0.1:{port}", {}, timeout=1)
    assert found.layer == UNREACHABLE and not found.is_configuration
    assert found.line.startswith(f"Kafka broker unreachable at 127.0.0.1:{port}: ")


def test_tls_configured_against_a_non_tls_listener(plain_listener):
    found = connect_failure(plain_listener, {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
                                             "sasl_plain_username": "u", "sasl_plain_password": "p"}, timeout=2)
    assert found.layer == TLS and found.is_configuration
    assert found.line.startswith(f"Kafka at {plain_listener}: TLS handshake failed")


def test_unreadable_cafile_is_named(plain_listener, tmp_path):
    found = connect_failure(plain_listener, {"security_protocol": "SSL", "ssl_cafile": str(tmp_path / "none.pem")},
                            timeout=2)
    assert found.layer == TLS and "ssl_cafile" in found.line


def test_first_reachable_address_is_the_one_examined(plain_listener):
    dead = f"127.0.0.1:{_closed_port()}"
    found = connect_failure(f"{dead},{plain_listener}", {}, error=TimeoutError("Unable to bootstrap"), timeout=2)
    assert found.layer == CLIENT
    assert found.line.startswith(f"Kafka at {plain_listener} accepted the connection but the Kafka client failed "
                                 "(TimeoutError: Unable to bootstrap)")
