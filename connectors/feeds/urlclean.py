"""Canonical URLs: one spelling per article so ids and dedup keys agree across feeds."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Exact query keys that only say where a click came from (Miniflux's list plus common ones).
_TRACKING_KEYS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "mc_cid", "mc_eid", "igshid", "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok",
    "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "wickedid", "rb_clickid", "s_cid",
    "ncid", "cmpid", "at_medium", "at_campaign", "guccounter", "__twitter_impression",
})
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "itm_")


def is_tracking_param(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING_KEYS or key.startswith(_TRACKING_PREFIXES)


def resolve(link: str, base: str | None) -> str:
    """Resolve a possibly relative link against the feed or page URL."""
    link = (link or "").strip()
    return urljoin(base, link) if base else link


def canonical_url(link: str, base: str | None = None) -> str:
    """Lowercase scheme/host, drop default port, fragment and tracking params; '' if unusable."""
    absolute = resolve(link, base)
    try:
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:  # e.g. a non-numeric port: keep the link as the feed gave it
        return absolute
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return absolute
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        credentials = parts.username or ""
        if parts.password:
            credentials += f":{parts.password}"
        netloc = f"{credentials}@{netloc}"
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not is_tracking_param(k)]
    query = urlencode(query_pairs, doseq=True) if query_pairs else ""
    if query_pairs and query.replace("+", "%20") == parts.query.replace("+", "%20"):
        query = parts.query  # untouched query: keep the publisher's own encoding
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_key(url: str) -> str:
    """The politeness key: host and port, so two servers on one machine count separately."""
    parts = urlsplit(url)
    return (parts.netloc or "").lower()


def web_url(link: str, base: str | None = None) -> str:
    """Canonical http(s) URL of an entry link, or '' (feedparser copies `urn:`/`tag:` ids into links)."""
    if not link or not link.strip():
        return ""
    url = canonical_url(link, base)
    return url if url.startswith(("http://", "https://")) else ""
