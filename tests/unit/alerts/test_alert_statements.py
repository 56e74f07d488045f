from connectors.alerts.message import Link
from connectors.alerts.statements import alert_for, group_statements


def row(statement_id, url, feed, confidence=0.5, first_seen="2025-01-28T10:00:00Z", **kw):
    return {
        "statement_id": statement_id, "speaker_name": "Jane Doe", "speaker_role": "Prime Minister",
        "speaker_country": "NZ", "text": "We act.", "confidence": confidence, "is_leadership": True,
        "item_id": url, "url": url, "feed_title": feed, "feed_url": f"https://{feed}/feed",
        "published": "2025-01-28T09:00:00Z", "first_seen": first_seen, **kw,
    }


def test_groups_rows_by_statement_with_distinct_links_in_order():
    rows = [
        row("s1", "https://a/1", "a"),
        row("s2", "https://c/1", "c"),
        row("s1", "https://b/1", "b", confidence=0.9, first_seen="2025-01-28T09:59:00Z"),
        row("s1", "https://a/1", "a-mirror"),
    ]
    groups = group_statements(rows)
    assert [g.statement_id for g in groups] == ["s1", "s2"]
    s1 = groups[0]
    assert [l.url for l in s1.links] == ["https://a/1", "https://b/1"]
    assert s1.fields["confidence"] == 0.9
    assert s1.first_seen == "2025-01-28T09:59:00Z"


def test_skips_rows_without_id_or_not_leadership():
    rows = [row("", "https://a/1", "a"), row("s1", "https://b/1", "b", is_leadership=False)]
    assert group_statements(rows) == []


def test_alert_for_uses_given_links():
    group = group_statements([row("s1", "https://a/1", "a")])[0]
    links = (Link("https://old/1", "old"), *group.links)
    alert = alert_for(group, "heads", links)
    assert (alert.speaker, alert.role, alert.country, alert.rule) == ("Jane Doe", "Prime Minister", "NZ", "heads")
    assert alert.links == links
