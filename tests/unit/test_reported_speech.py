"""`nlp.reported_speech`: which reported speech goes into the `quotes` table. The writer's own
voice on first-person prose ("I think ...") is not a source's statement; `all` keeps it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.util import assert_that, equal_to

from connectors.errors import ConfigError
from pipeline.config import load_config
from transforms.extract import extract_documents
from transforms.extract_beam import ExtractQuotesAndEntities
from transforms.nlp import load_nlp
from transforms.reported_speech import POLICIES, keeps

ROOT = Path(__file__).resolve().parents[2]
BLOG = ("I think the new compiler is a big step forward, and we hope the next release fixes the "
        "linker too.\n\n"
        "The maintainers argued that the old flags must stay for another year.\n\n"
        "\u201cWe will not break anyone\u2019s build,\u201d the lead developer, Ines Varga, said.")


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def rows(nlp, policy):
    [result] = extract_documents([("blog", BLOG, "2024-05-01")], nlp=nlp, reported_speech=policy)
    return [(q.kind, q.speaker) for q in result.quotes]


@pytest.mark.parametrize("kind, speaker, sources, everything, none", [
    ("direct", None, True, True, True),
    ("direct", "I", True, True, True),
    ("mixed", "we", True, True, True),  # words in quote marks are always someone's quote
    ("indirect", "Ines Varga", True, True, False),
    ("indirect", "the ministry", True, True, False),
    ("indirect", "he", True, True, False),
    ("indirect", "I", False, True, False),
    ("indirect", "We", False, True, False),
    ("indirect", "you", False, True, False),
    ("indirect", "which", False, True, False),
    ("indirect", None, False, True, False),
    ("indirect", "  ", False, True, False),
])
def test_policies(kind, speaker, sources, everything, none):
    assert keeps(kind, speaker, "sources") is sources
    assert keeps(kind, speaker, "all") is everything
    assert keeps(kind, speaker, "none") is none


def test_an_unknown_policy_is_an_error_not_a_default():
    with pytest.raises(ValueError, match="use one of sources, all, none"):
        keeps("indirect", "he", "everything")
    with pytest.raises(ValueError):
        list(extract_documents([("t", "text", None)], reported_speech="everything"))


def test_the_writers_own_voice_is_left_out_by_default(nlp):
    default = rows(nlp, "sources")
    everything = rows(nlp, "all")
    speakers = {s.lower() for _, s in everything if s}
    assert "i" in speakers  # the model does find the writer's "I think"
    assert not any(s and s.lower() in ("i", "we", "you") for _, s in default)
    assert ("indirect", "The maintainers") in default  # a source's reported speech stays
    assert [r for r in default if r[0] == "direct"] == [r for r in everything if r[0] == "direct"]
    assert all(kind != "indirect" for kind, _ in rows(nlp, "none"))
    assert any(kind == "direct" for kind, _ in rows(nlp, "none"))


def test_config_key_validated_and_passed_on(tmp_path):
    path = tmp_path / "newsbeam.yaml"
    path.write_text("nlp:\n  reported_speech: all\n")
    assert load_config(path, {}).nlp.reported_speech == "all"
    assert load_config(path,
                       {"NEWSBEAM_NLP__REPORTED_SPEECH": "none"}).nlp.reported_speech == "none"
    path.write_text("nlp:\n  reported_speech: writers\n")
    with pytest.raises(ConfigError, match="nlp.reported_speech"):
        load_config(path, {})


def test_the_beam_wrapper_applies_the_policy():
    item = {"item_id": "blog", "text": BLOG, "published": "2024-05-01"}

    def speakers(done):
        return sorted((q["speaker"] or "").lower() for q in done["quotes"] if q["kind"] == "indirect")

    with BeamPipeline() as p:
        items = p | beam.Create([item])
        default = items | "Default" >> ExtractQuotesAndEntities(batch_size=8)
        everything = items | "All" >> ExtractQuotesAndEntities(batch_size=8, reported_speech="all")
        # outputs: "done" holds one list of articles per NLP batch
        assert_that(default["done"] | "D" >> beam.FlatMap(lambda batch: ["i" in speakers(d) for d in batch]),
                    equal_to([False]), label="d")
        assert_that(everything["done"] | "A" >> beam.FlatMap(lambda batch: ["i" in speakers(d) for d in batch]),
                    equal_to([True]), label="a")
    with pytest.raises(ValueError):
        ExtractQuotesAndEntities(reported_speech="writers")


def test_newsbeam_extract_takes_the_flag_and_the_config(tmp_path):
    doc = tmp_path / "blog.txt"
    doc.write_text(BLOG, encoding="utf-8")

    def indirect_speakers(*args, config: str = ""):
        cfg = tmp_path / "c.yaml"
        cfg.write_text(config)
        out = subprocess.run([sys.executable, "-m", "pipeline.cli", "extract", str(doc), "--config", str(cfg),
                              *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
        [line] = out.stdout.splitlines()
        return {(q["speaker"] or "").lower() for q in json.loads(line)["quotes"] if q["kind"] == "indirect"}

    assert "i" not in indirect_speakers()
    assert "i" in indirect_speakers("--reported-speech", "all")
    assert "i" in indirect_speakers(config="nlp:\n  reported_speech: all\n")
    assert indirect_speakers("--reported-speech", "none") == set()


@pytest.mark.parametrize("cue, kept", [("seems", False), ("turns", False), ("appears", False), ("'s", False),
                                       ("is", False), ("said", True), ("says", True), ("hopes", True),
                                       ("expects", True), ("shows", True), (None, True)])
def test_an_impersonal_it_is_the_writer(cue, kept):
    # "It seems that ...", "it turns out that ...": nobody's reported speech; a company's "it said",
    # "it hopes to" stay. Only the sources policy leaves it out.
    assert keeps("indirect", "It", "sources", cue) is kept
    assert keeps("indirect", "It", "all", cue) is True
    assert keeps("direct", "it", "sources", cue) is True


def test_impersonal_it_gives_no_row_but_a_company_it_does(nlp):
    text = ("It seems that many readers use the tool for Markdown. It turns out that most of them "
            "never change the settings.\n\nAcme Corp cut its forecast. It said demand had slumped.")
    [result] = extract_documents([("t", text, "2024-05-01")], nlp=nlp)
    assert [(q.speaker, q.text) for q in result.quotes if q.speaker and q.speaker.lower() == "it"] == [
        ("It", "demand had slumped")]
