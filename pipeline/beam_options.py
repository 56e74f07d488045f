"""Which command-line options Apache Beam knows, so an option nobody knows is an error.

Beam itself drops an option it does not know with a warning ("Discarding unparseable args"),
which is how `newsbeam run --confg prod.yaml` used to run against the defaults. Known = defined
by any registered `PipelineOptions` subclass (sub-subclasses and runner-specific ones included;
the runner named by `--runner` is imported first so its own options register, as the run resolves
it: `--runner=DaskRunner` is pipeline/dask_runner.py, see pipeline/engines.py).
"""
from __future__ import annotations

import re


def _subclasses(cls) -> list[type]:
    out, todo = [], list(cls.__subclasses__())
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(c.__subclasses__())
    return out


def _import_runner(args: list[str]) -> None:
    for i, a in enumerate(args):
        m = re.fullmatch(r"--runner(?:=(.*))?", a)
        if m:
            name = m.group(1) if m.group(1) is not None else (args[i + 1] if i + 1 < len(args) else "")
            try:
                from apache_beam.runners.runner import create_runner

                from pipeline.engines import runner_path

                create_runner(runner_path(name))
            except Exception:  # an unknown runner is Beam's to report, with its own message
                pass


def unknown_beam_options(args: list[str], runner_args: list[str] = ()) -> list[str]:
    """The words of `args` that no Beam pipeline option accounts for (options and stray values).
    ``runner_args``: other options of the same run, whose `--runner` counts too (the config's
    `pipeline.beam_args` may name the runner whose options the command line sets)."""
    if not args:
        return []
    from apache_beam.options.pipeline_options import PipelineOptions

    _NamesOnly = _names_only_parser()
    _import_runner([*runner_args, *args])
    # conflict_handler="resolve": a class defined twice (e.g. in a main session) must not abort.
    parser = _NamesOnly(allow_abbrev=False, conflict_handler="resolve")
    for cls in _subclasses(PipelineOptions):
        if "_add_argparse_args" in vars(cls):  # inherited ones were added by their own class
            cls._add_argparse_args(parser)
    for action in parser._actions:
        # Names only: values are Beam's to check when the run starts (and may be placeholders
        # a scheduler expands, like Kubernetes' $(BEAM_WORKERS)).
        action.type, action.choices = None, None
    try:
        _, unknown = parser.parse_known_args(list(args))
    except _Malformed as exc:  # e.g. "argument --runner: expected one argument"
        name, _, why = str(exc).removeprefix("argument ").partition(": ")
        return [f"{name} ({why})" if why else name]
    return unknown


class _Malformed(ValueError):
    pass


def _names_only_parser():
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    class NamesOnly(_BeamArgumentParser):
        def error(self, message):  # argparse would exit the process
            raise _Malformed(message)

    return NamesOnly
