"""Feed polling: fetch RSS/Atom/JSON feeds politely, normalise entries into `FeedItem`s.

Layout follows Miniflux's `internal/reader/`: `fetcher` (HTTP), `http_rules` (one function per
caching/backoff rule), one parser per format (`xml_parser`, `json_parser`), `normalizer`
(entries -> records), `sanitizer`, `urlclean`, `state` (SQLite), `poller` (cycles).
"""
