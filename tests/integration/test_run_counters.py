"""A run's counters are counted as data by the job (transforms/counters.py), written beside the
tables (connectors/run_counters.py) and read into the manifest: every counter a run reports, on
the real Kafka and S3, matching what the tables hold."""
from __future__ import annotations

from connectors import run_ledger, s3
from connectors.kafka_source import KafkaSettings, reset_offsets
from pipeline.run import execute
from stackutil import committed_offsets, feed_item, produce, read_table
from transforms import counters

STORY = ("Iran's President Masoud Pezeshkian said on Tuesday that talks would continue.\n\n"
         "\"We will not give up on diplomacy,\" he added, speaking to reporters in Tehran.\n\n"
         "The foreign ministry said the next round would take place in Oman next month, "
         "according to officials familiar with the plans. ") * 3
OTHER = ("The central bank held interest rates at four percent on Thursday, citing slowing "
         "inflation and a weaker labour market in the second quarter of the year. ") * 4
GERMAN = ("Die Regierung hat am Dienstag neue Gespräche mit den Nachbarländern angekündigt. "
          "Der Außenminister sagte, man werde die Verhandlungen im nächsten Monat fortsetzen. ") * 3


def test_manifest_holds_every_counter_counted_as_data(stack_config):
    cfg = stack_config
    ss = s3.S3Settings.from_config(cfg.s3)
    produce(cfg, [feed_item("c-story", STORY),
                  feed_item("c-story", STORY),           # the same item again: a duplicate
                  feed_item("c-other", OTHER),
                  dict(feed_item("c-de", GERMAN), language="de"),  # no German model: nlp_skipped
                  b"not a feed item"])                    # a reject
    first = execute(cfg)
    manifest = run_ledger.read_manifest(ss, first.run_id)
    quotes = read_table(cfg, "quotes")
    assert quotes, "the story's quote was extracted"
    assert manifest.counters == first.counters == {
        counters.ITEMS_DECODED: 4, counters.REJECTS: 1, counters.DUPLICATES_DROPPED: 1,
        counters.REPLAYED_ROWS: 0, counters.NLP_SKIPPED: 1, counters.QUOTES: len(quotes),
        counters.LEADERSHIP_STATEMENTS: sum(1 for q in quotes if q["is_leadership"])}
    assert set(manifest.counters) == set(counters.NAMES)
    # the counters object served its purpose: the manifest holds them now
    assert s3.list_keys(ss, ss.key(run_ledger.COUNTERS_DIR) + "/") == []

    # A replay from offset 0 with one new record: the records already written are replayed,
    # not duplicates, and nothing is extracted or written twice.
    produce(cfg, [feed_item("c-new", OTHER + " A later report.")])
    reset_offsets(KafkaSettings.from_config(cfg.kafka), {p: 0 for p in committed_offsets(cfg)})
    replay = execute(cfg)
    assert replay.counters[counters.REPLAYED_ROWS] == 3
    assert replay.counters[counters.ITEMS_DECODED] == 5
    assert replay.counters[counters.NLP_SKIPPED] == 0
    # only the new article is extracted
    assert replay.counters[counters.QUOTES] == sum(1 for q in read_table(cfg, "quotes") if q["item_id"] == "c-new")
    # one new article (with its quotes and entities); no reject or duplicate written again
    assert replay.rows["articles"] == 1 and set(replay.rows) <= {"articles", "quotes", "entities"}
    assert run_ledger.read_manifest(ss, replay.run_id).counters == replay.counters


def test_counters_a_crashed_run_left_are_removed_by_the_next_run(stack_config):
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})
    ss = s3.S3Settings.from_config(cfg.s3)
    left = run_ledger.write_counters(ss, "dead0000dead0000", {counters.ITEMS_DECODED: 99})
    produce(cfg, [feed_item("l-1", OTHER)])
    summary = execute(cfg)
    assert summary.counters[counters.ITEMS_DECODED] == 1
    assert [o["Key"] for o in s3.list_keys(ss, left)] == []
