import json

from connectors.alerts.message import (
    MAX_LINKS_SHOWN, Alert, Link, email_body, email_subject, json_body, message_id, slack_payload,
)

LINKS = (
    Link("https://a.example/1", "Outlet A", "https://a.example/feed", "2025-01-28T10:00:00Z"),
    Link("https://b.example/2", "Outlet B", "https://b.example/rss", "2025-01-28T10:05:00Z"),
    Link("https://a.example/3", "Outlet A", "https://a.example/feed", "2025-01-28T10:07:00Z"),
)
ALERT = Alert("st-1", "heads", "Jane Doe", "Prime Minister", "NZ", "We <will> act & fast.", "2025-01-28T10:01:00Z", 0.9, LINKS)


def test_outlets_are_distinct_in_order():
    assert ALERT.outlets == ["Outlet A", "Outlet B"]
    assert ALERT.idempotency_key == "st-1:heads"


def test_roundtrip_through_dict():
    assert Alert.from_dict(json.loads(json.dumps(ALERT.to_dict()))) == ALERT


def test_slack_payload_escapes_and_links_every_url():
    payload = slack_payload(ALERT)
    text = json.dumps(payload)
    assert "&lt;will&gt; act &amp; fast" in payload["text"]
    assert "Jane Doe (Prime Minister, NZ)" in payload["text"]
    for link in LINKS:
        assert f"<{link.url}|{link.feed_title}>" in text
    assert "2 outlets" in text


def test_slack_payload_caps_listed_links():
    many = tuple(Link(f"https://x.example/{i}", f"O{i}") for i in range(MAX_LINKS_SHOWN + 5))
    blocks = slack_payload(Alert("s", "r", "A", "", "", "t", "", links=many))["blocks"]
    assert blocks[-1]["text"]["text"].count("https://x.example/") == MAX_LINKS_SHOWN
    assert blocks[-1]["text"]["text"].endswith("and 5 more")


def test_json_body_carries_quote_speaker_links_and_key():
    body = json_body(ALERT, "2025-01-28T10:10:00Z")
    assert body["speaker"] == {"name": "Jane Doe", "role": "Prime Minister", "country": "NZ"}
    assert body["text"] == ALERT.text
    assert [l["url"] for l in body["links"]] == [l.url for l in LINKS]
    assert body["idempotency_key"] == "st-1:heads"
    assert body["sent_at"] == "2025-01-28T10:10:00Z"


def test_email_names_speaker_and_role_and_lists_links():
    assert "Jane Doe (Prime Minister, NZ)" in email_subject(ALERT)
    body = email_body(ALERT)
    assert ALERT.text in body
    assert all(link.url in body for link in LINKS)


def test_message_id_is_stable_per_key():
    assert message_id("st-1:heads") == message_id("st-1:heads") != message_id("st-1:other")
    assert message_id("k").startswith("<") and message_id("k").endswith("@newsbeam.alerts>")
