"""Beam options for the engine a run goes to, so it uses the engine well without tuning.

The Beam job is the same on every runner; only its options differ. `newsbeam run` passes the
options it does not know to Beam, after these adjustments:

- ``--runner=DaskRunner`` (or Beam's class path for it) runs on ``pipeline.dask_runner``: Beam's
  DaskRunner with a bounded number of partitions per shuffle, without which a job of many joins
  like this one drowns in empty tasks (that module says why).
- On Dask, without ``--dask_npartitions`` / ``--dask_partition_size``, each input the job creates
  (the Kafka read splits above all) is cut into one partition per read split. Beam's default,
  128 elements per partition, puts a run's few splits into one partition, and a partition is
  what one Dask task works on: one worker would read, dedup and parse everything.
"""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

DASK_RUNNER = "pipeline.dask_runner.DaskRunner"
DASK_NAMES = ("DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner", DASK_RUNNER)


def is_dask(options: PipelineOptions) -> bool:
    return (options.view_as(StandardOptions).runner or "") in DASK_NAMES


def runner_path(name: str) -> str:
    """The runner a ``--runner`` value resolves to for a run (Beam's own resolution otherwise)."""
    return DASK_RUNNER if name in DASK_NAMES else name


def pipeline_options(args: list[str], read_splits: int) -> PipelineOptions:
    options = PipelineOptions(args)
    if is_dask(options):
        from apache_beam.runners.dask.dask_runner import DaskOptions

        options.view_as(StandardOptions).runner = runner_path(options.view_as(StandardOptions).runner)
        dask = options.view_as(DaskOptions)
        if dask.npartitions is None and dask.partition_size is None:
            dask.npartitions = max(1, read_splits)
    return options
