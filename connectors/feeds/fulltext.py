"""Full article text for summary-only feeds: fetch the page politely, extract with trafilatura."""
from __future__ import annotations

from .fetcher import PAGE_ACCEPT, Fetcher
from .netguard import ensure_public_url


def extract_article_html(page: bytes, url: str) -> str:
    """Main text of an article page as simple HTML ('' when trafilatura finds nothing)."""
    import trafilatura  # heavy import; only feeds with full_text pay for it

    extracted = trafilatura.extract(page, url=url, output_format="html", include_comments=False,
                                    include_tables=False, favor_precision=True)
    return extracted or ""


def fetch_article_html(fetcher: Fetcher, url: str, allow_private_addresses: bool) -> tuple[str, str | None]:
    """(article html, error). Every redirect hop is re-checked against the address guard."""
    guard = None if allow_private_addresses else ensure_public_url
    result = fetcher.fetch(url, accept=PAGE_ACCEPT, guard=guard)
    if result.error:
        return "", result.error
    if result.body is None:
        return "", f"HTTP {result.status}"
    return extract_article_html(result.body, result.final_url), None

