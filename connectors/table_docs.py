"""What every table and column of the Parquet tables means: the one home of their descriptions.

Columns and types are connectors/tables.py's; the words are here, one entry per column, in the
same order (a test checks both). Generated from them by `python docs/gen_table_docs.py --write`:
the column tables of docs/schema.md and the dbt sources (deploy/dbt/models/sources.yml). Each
description stands on its own (dbt and data catalogs show a column without its neighbours);
Markdown backticks are fine (dbt docs and schema.md render them).
"""
from __future__ import annotations

TABLES: dict[str, str] = {
    "articles": "One row per distinct feed entry: cleaned text, dedup story, language and NLP status, "
                "Kafka coordinates.",
    "quotes": "Quotes and reported speech extracted from `articles.text`, with the resolved speaker and "
              "whether a leader spoke.",
    "entities": "Named entities per article, mentions merged under one canonical name.",
    "rejects": "Kafka records that could not be processed, with the reason and the raw payload.",
    "duplicates": "Records dedup dropped, each naming the `articles` row it duplicates.",
}

PARTITION = ("`YYYY-MM-DD`: the UTC date the item was fetched (`fetched_at`), or the run date for a "
             "reject without one (Hive partition folder `dt=`)")

_RUN_ID = "the run that wrote the row (16 hex; names its manifest `_runs/<run_id>.json`)"

COLUMNS: dict[str, dict[str, str]] = {
    "articles": {
        "item_id": "stable id of the feed entry, scoped by its feed: `<basis>:` + 32 hex of SHA-256 over the "
                   "configured feed URL, the basis and its key, where the basis is `guid` (the entry's GUID when "
                   "sane: at most 1,024 characters, not the feed's URL, not shared by another entry of the same "
                   "document), else `link` (its canonical link when no other entry of the document has it), else "
                   "`content` (title, date, summary and content as written). Equal GUIDs in two feeds never "
                   "collide (`connectors/feeds/identity.py`). Rows written before this scheme carry the old id "
                   "(raw GUID, link or `h:` hash)",
        "story_id": "`item_id` of the earliest copy of the same story (itself when it is the first)",
        "duplicate_of": "`item_id` of the earliest copy when this row is a later copy, else null",
        "dup_kind": "`exact` (same normalised text), `near` (MinHash Jaccard above the threshold) or null",
        "url": "canonical URL: lowercased host, tracking parameters (`utm_*`, `fbclid`, `gclid`, ...) removed",
        "title": "entry title",
        "summary": "the feed's summary as plain text",
        "text": "cleaned article text (HTML removed, repeated paragraphs such as a caption printed twice "
                "dropped); quote and entity offsets point into it",
        "content_hash": "32-hex BLAKE2b of the normalised text (case, whitespace and quote marks folded)",
        "word_count": "words in `text`",
        "authors": "entry authors",
        "tags": "entry categories",
        "language": "the text's language (ISO 639-1, e.g. `en`, `de`), detected from the text, else as the feed "
                    "or entry declared it; `language_source` says which",
        "published": "publication time, UTC (the fetch time when the feed gave none)",
        "published_missing": "true when `published` is the fetch time because the feed had no date",
        "updated": "last update time given by the feed, UTC, or null",
        "fetched_at": "when the poller fetched the entry, UTC (`dt` is its date)",
        "feed_url": "the feed the entry came from",
        "feed_title": "that feed's title",
        "quote_count": "rows in `quotes` for this item",
        "leadership_count": "of this item's `quotes` rows, those that are leadership statements",
        "nlp_truncated": "the text was longer than `nlp.max_chars`: quotes and entities come from its first part "
                         "only (cut at a paragraph or sentence end), `text` is complete; null when NLP did not run",
        "kafka_topic": "Kafka topic of the record",
        "kafka_partition": "Kafka partition of the record",
        "kafka_offset": "Kafka offset of the record",
        "run_id": _RUN_ID,
        "language_source": "where `language` came from: `detected` (from the text), `feed` (declared by the feed "
                           "or entry, the text being too short or ambiguous), or null when neither says",
        "nlp_skipped": "true when quotes and entities were not extracted for this article",
        "nlp_skip_reason": "why, e.g. `no model for language de`, `language unknown`, `nlp disabled`; null when "
                           "NLP ran",
        "minhash": "MinHash signature of the text (128 x uint32, little-endian) for story heads, so later runs "
                   "find the story; null for exact copies and empty texts",
    },
    "quotes": {
        "item_id": "the article (`articles.item_id`)",
        "story_id": "the article's story (`articles.story_id`)",
        "quote_index": "position of the quote in the article, from 0",
        "statement_id": "one id per statement across outlets (docs/schema.md, *Statement identity*): the quoted "
                        "words' first sentence and the speaker's surname, so quote-mark style, attribution "
                        "phrasing, name/title/pronoun and an added sentence do not change it",
        "start_char": "character offset of the quote in `articles.text` (files written before the rename call it "
                      "`start`, see docs/operations.md, Upgrade)",
        "end_char": "end character offset of the quote in `articles.text`, exclusive (formerly `end`)",
        "text": "the quoted or reported words, `articles.text[start_char:end_char]`",
        "kind": "`direct` (in quote marks; the string literals of a paragraph of program code or "
                "markup are no quotes), `mixed` (partly quoted: a reported clause holding a "
                "quote, or a partial quote such as `called the attack \"cowardly\"`, whose text is then"
                " the quoted words) or `indirect` (reported speech, incl. `according to X`, `X's "
                "claim that ...`, `polls show ...`; by default only when someone other than the "
                "writer is its source: `nlp.reported_speech`, docs/operations.md)",
        "cue": "the speech verb or cue (`said`, `added`, `wrote`, `according to`, ...)",
        "speaker": "the speaker as written (`he`, `the Supreme Leader`, `Khamenei`); a statement "
                   "reported inside another one's words (`Trump said [Obama wants to ...]`) has the "
                   "outer statement's speaker (Trump)",
        "speaker_start": "character offset of that speaker mention in `articles.text`, or null",
        "speaker_end": "end character offset of that speaker mention, exclusive, or null",
        "speaker_name": "the speaker resolved to a named person or organisation of the article "
                        "(pronouns, titles and descriptions such as `the governor` or `the company` "
                        "resolved when the article names whom they refer to), or null: then `speaker`"
                        " as written is the answer (`a senior aide`, `Grayson's spokeswoman`, `the "
                        "company` of an organisation the article only mentions in passing; a `he`/`she` "
                        "after someone unnamed spoke, as in `a resident told TIME ... \"...,\" he added`, "
                        "with nobody else the subject of a sentence since)",
        "speaker_role": "the speaker's role from the article or the leaders gazetteer (`president`, "
                        "`supreme leader`, `foreign minister`, ...)",
        "speaker_country": "the country of that role, or the international body for its heads (`International "
                           "Monetary Fund`, `United Nations`), when known",
        "speaker_kind": "`person` or `organisation` (`\"...,\" the company said` resolved to the company named "
                        "earlier), or null when unknown",
        "is_leadership": "the speaker held a leader role (head of state or government, supreme leader, monarch, "
                         "foreign/defence/finance minister, central bank head, head of a major international "
                         "body itself, not of a part of it such as `the European Commission's tech chief`) at the "
                         "article's date. Titles that companies, universities and parties use too (president, vice "
                         "president, chancellor, secretary-general) count only with a country or an international "
                         "body, or standing bare before the name (`President X`): `Microsoft Vice President X`, "
                         "`X, president and CEO of the chamber`, `LDP secretary-general X` are not leaders. The "
                         "article's own words (`Spanish Prime Minister X`, "
                         "`Kenya's finance minister, X,`, `the chief of the IMF, X`) count first, even when the "
                         "gazetteer disagrees or is silent; the gazetteer fills in the rest",
        "confidence": "0..1, how sure the attribution is (rule attributions 0.5-0.9; ones the learned layer added "
                      "carry its probability)",
        "url": "the article's URL",
        "feed_url": "the article's feed",
        "feed_title": "that feed's title",
        "published": "the article's publication time, UTC",
        "fetched_at": "the article's fetch time, UTC (`dt` is its date)",
        "run_id": _RUN_ID,
    },
    "entities": {
        "item_id": "the article (`articles.item_id`)",
        "canonical": "canonical name in this article (the fullest form)",
        "name": "the entity as first written",
        "label": "spaCy label: `PERSON`, `ORG`, `GPE`, `NORP`, `LOC`, `EVENT`, ...",
        "count": "mentions in the article",
        "first_start": "character offset of the first mention in `articles.text`",
        "first_end": "end character offset of the first mention, exclusive",
        "fetched_at": "the article's fetch time, UTC (`dt` is its date)",
        "run_id": _RUN_ID,
    },
    "rejects": {
        "stage": "where it failed: `poll` (the poller sent a dead-letter stub: the entry was too large for "
                 "Kafka; `error` gives the sizes), `decode` (not UTF-8 or JSON, or not a valid feed item: a "
                 "field missing, unknown, of the wrong type or form, a string that is not text, a `fetched_at` "
                 "outside the window), `prepare` (text cleaning), `nlp` (extraction raised), `rows` (the "
                 "article's rows cannot be written: a value of the wrong type, no `YYYY-MM-DD` partition; the "
                 "whole article, with its raw record), `write` (a row Arrow could not convert; `payload` is "
                 "the row as JSON)",
        "error": "the reason, one line",
        "kafka_topic": "Kafka topic of the record",
        "kafka_partition": "Kafka partition of the record",
        "kafka_offset": "Kafka offset of the record",
        "kafka_key": "the record's key as text",
        "payload": "the raw record value, byte for byte",
        "item_id": "the item id when it could be read",
        "fetched_at": "the item's fetch time when it could be read (else `dt` is the run date)",
        "run_id": _RUN_ID,
    },
    "duplicates": {
        "item_id": "the dropped record's item id",
        "duplicate_of": "the `articles.item_id` it duplicates (its own id when a feed sent the same entry twice)",
        "reason": "`item_id seen in run`, `item_id seen in history`, `url and text seen in run`, "
                  "`url and text seen in history`",
        "url": "the dropped record's canonical URL",
        "title": "the dropped record's title",
        "content_hash": "hash of its normalised text (as `articles.content_hash`)",
        "feed_url": "the feed it came from",
        "kafka_topic": "Kafka topic of the record",
        "kafka_partition": "Kafka partition of the record",
        "kafka_offset": "Kafka offset of the record",
        "fetched_at": "its fetch time, UTC (`dt` is its date)",
        "run_id": _RUN_ID,
    },
}


def describe(table: str, column: str) -> str:
    return PARTITION if column == "dt" else COLUMNS[table][column]
