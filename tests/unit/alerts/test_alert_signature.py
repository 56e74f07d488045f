import hashlib
import hmac

from connectors.alerts.sinks import sign, verify_signature

BODY = b'{"statement_id":"st-1","text":"caf\xc3\xa9"}'


def test_signature_is_hmac_sha256_of_exact_body():
    expected = hmac.new(b"k", BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, b"k") == f"sha256={expected}"
    assert verify_signature(BODY, sign(BODY, b"k"), b"k")


def test_wrong_secret_tampered_body_or_bad_header_fail():
    header = sign(BODY, b"k")
    assert not verify_signature(BODY, header, b"other")
    assert not verify_signature(BODY + b" ", header, b"k")
    assert not verify_signature(BODY, header.removeprefix("sha256="), b"k")
    assert not verify_signature(BODY, "", b"k")
