"""WithOutputs: several outputs from single-output steps, the way every runner runs them."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.pvalue import TaggedOutput
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.outputs import WithOutputs


def _odd_apart(x, offset):
    if x % 2:
        yield TaggedOutput("odd", x + offset)
    else:
        yield x + offset


class _Counting(beam.DoFn):
    def setup(self):
        self.ready = True

    def process(self, x):
        assert self.ready
        yield x if x > 0 else TaggedOutput("bad", x)


def test_each_output_gets_only_its_own_values():
    with TestPipeline() as p:
        out = p | beam.Create(range(6)) | WithOutputs(_odd_apart, "odd", main="even", args=(10,))
        assert_that(out["even"], equal_to([10, 12, 14]), label="even")
        assert_that(out["odd"], equal_to([11, 13, 15]), label="odd")


def test_a_dofn_keeps_its_lifecycle():
    with TestPipeline() as p:
        out = p | beam.Create([3, -1, 2]) | WithOutputs(_Counting(), "bad")
        assert_that(out["main"], equal_to([3, 2]), label="main")
        assert_that(out["bad"], equal_to([-1]), label="bad")


def test_an_undeclared_tag_fails_the_step():
    with pytest.raises(Exception, match="tagged 'odd'"):
        with TestPipeline() as p:
            _ = p | beam.Create([1]) | WithOutputs(_odd_apart, main="even", args=(0,))


class _EmitsAtBundleEnd(beam.DoFn):
    def process(self, x):
        yield x

    def finish_bundle(self):
        yield beam.transforms.window.GlobalWindows.windowed_value(99)


def test_outputs_at_the_end_of_a_bundle_are_refused_not_lost():
    with pytest.raises(Exception, match="finish_bundle emitted outputs"):
        with TestPipeline() as p:
            _ = p | beam.Create([1]) | WithOutputs(_EmitsAtBundleEnd())
