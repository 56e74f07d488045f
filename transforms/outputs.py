"""Several outputs from one step, built from single-output steps only.

``beam.ParDo(fn).with_outputs(...)`` is plain Beam, but not every runner keeps the outputs apart:
Beam's DaskRunner hands every consumer all of the step's outputs, whatever its tag. Here the step
emits ``(tag, value)`` pairs and one cheap filter per tag splits them, which every runner executes
the same way (on the DirectRunner and Prism the filters fuse into the step).

The wrapped functions and DoFns stay as they are: they keep yielding ``TaggedOutput(tag, value)``
for the other outputs and plain values for the main one.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput


def _tag(outputs: Iterable | None, main: str, known: tuple[str, ...]) -> Iterable[tuple[str, Any]]:
    for out in outputs or ():
        if not isinstance(out, TaggedOutput):
            yield main, out
        elif out.tag in known:
            yield out.tag, out.value
        else:  # a programming error: the value would go nowhere
            raise ValueError(f"output tagged {out.tag!r}, not one of {known}")


class _TaggingDoFn(beam.DoFn):
    """Runs ``fn`` (a DoFn or a FlatMap-style callable) and yields (tag, value) pairs."""

    def __init__(self, fn: beam.DoFn | Callable, main: str, known: tuple[str, ...]):
        self._fn, self._main, self._known = fn, main, known
        self._is_dofn = isinstance(fn, beam.DoFn)

    def setup(self):
        if self._is_dofn:
            self._fn.setup()

    def start_bundle(self):
        if self._is_dofn:
            self._fn.start_bundle()

    def process(self, element, *args, **kwargs):
        call = self._fn.process if self._is_dofn else self._fn
        yield from _tag(call(element, *args, **kwargs), self._main, self._known)

    def finish_bundle(self):
        # Outputs at the end of a bundle are exactly what some runners drop (the DaskRunner does):
        # refuse them instead of losing them.
        if self._is_dofn and list(self._fn.finish_bundle() or ()):
            raise TypeError(f"{type(self._fn).__name__}.finish_bundle emitted outputs; "
                            "emit from process() so every runner keeps them")

    def teardown(self):
        if self._is_dofn:
            self._fn.teardown()

    def display_data(self):
        return {"fn": type(self._fn).__name__ if self._is_dofn else getattr(self._fn, "__name__", "fn")}


def _select(tagged: tuple[str, Any], tag: str):
    if tagged[0] == tag:
        yield tagged[1]


class WithOutputs(beam.PTransform):
    """``WithOutputs(fn, "other", main="items")`` ~ ``beam.ParDo(fn).with_outputs("other", main="items")``.

    ``fn`` is a ``beam.DoFn`` or a callable used like ``beam.FlatMap``'s; ``args`` / ``kwargs`` go
    to it after the element. Returns ``{tag: PCollection}`` for the main tag and the others. A value
    tagged with a tag not declared here is a programming error and fails the step.
    """

    def __init__(self, fn: beam.DoFn | Callable, *tags: str, main: str = "main", args: tuple = (),
                 kwargs: dict | None = None):
        super().__init__()
        if main in tags:
            raise ValueError(f"main tag {main!r} repeated among the other tags")
        self._fn, self._tags, self._main = fn, tags, main
        self._args, self._kwargs = args, kwargs or {}

    def expand(self, pcoll):
        known = (self._main, *self._tags)
        tagged = pcoll | "Tagged" >> beam.ParDo(_TaggingDoFn(self._fn, self._main, known),
                                                *self._args, **self._kwargs)
        return {tag: tagged | f"Only_{tag}" >> beam.FlatMap(_select, tag) for tag in known}
