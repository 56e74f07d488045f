"""Running the job on Dask: options, the bounded shuffles of pipeline/dask_runner.py, errors."""
from __future__ import annotations

import pytest

from pipeline import engines


def test_dask_runner_names_resolve_to_ours_with_a_partition_per_read_split():
    for name in ("DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner"):
        options = engines.pipeline_options([f"--runner={name}", "--dask_client_address=tcp://h:8786"], 5)
        assert options.get_all_options()["runner"] == "pipeline.dask_runner.DaskRunner"
        assert options.get_all_options()["npartitions"] == 5


def test_explicit_dask_partitioning_is_kept_and_other_runners_untouched():
    options = engines.pipeline_options(["--runner=DaskRunner", "--dask_partition_size=7"], 5)
    assert options.get_all_options()["partition_size"] == 7
    assert options.get_all_options()["npartitions"] is None
    direct = engines.pipeline_options(["--direct_num_workers=2"], 5).get_all_options()
    assert direct["runner"] is None and direct.get("npartitions") is None


def _visited_bags(limit: int):
    import apache_beam as beam
    from apache_beam.runners.dask.overrides import dask_overrides

    from connectors.kafka_source import KafkaSettings, OffsetRange
    from connectors.s3 import S3Settings
    from pipeline.config import Config
    from pipeline.dask_runner import _BagVisitor
    from pipeline.job import JobSpec, build

    config = Config()
    spec = JobSpec(run_id="0" * 16, kafka=KafkaSettings.from_config(config.kafka),
                   s3=S3Settings.from_config(config.s3), shards={},
                   splits=tuple(OffsetRange("t", 0, i * 500, i * 500 + 500) for i in range(4)))
    p = beam.Pipeline()
    build(p, spec)
    p.replace_all(dask_overrides())
    visitor = _BagVisitor({"npartitions": 4, "shuffle_partitions": limit})
    p.visit(visitor)
    return visitor.bags


def test_every_shuffle_of_the_job_stays_within_the_partition_limit():
    # Beam's own translation doubles the partitions at every join: 3,836 at the end of this job
    # from one input partition. Here no groupby sees more than the limit, and no bag has more
    # than a few limits' worth (a Flatten adds its inputs up until the next shuffle).
    from apache_beam.runners.dask.overrides import _GroupByKeyOnly

    bags = _visited_bags(limit=8)
    grouped = [b.npartitions for node, b in bags.items() if isinstance(node.transform, _GroupByKeyOnly)]
    assert grouped and max(grouped) <= 8
    assert max(b.npartitions for b in bags.values() if hasattr(b, "npartitions")) <= 100


def test_a_killed_dask_worker_is_a_typed_error_in_one_line():
    from distributed.scheduler import KilledWorker

    from connectors.errors import RunFailed, WorkerLost, from_failure
    from pipeline.run import _failed

    class Worker:
        address = "tcp://10.0.0.7:8790"

    killed = KilledWorker(task=("map-1f2e", 3), last_worker=Worker(), allowed_failures=0)
    try:
        try:
            raise killed
        except KilledWorker as exc:
            raise RuntimeError("the runner wrapped it") from exc
    except RuntimeError as wrapped:
        err = from_failure(wrapped)
    assert type(err) is WorkerLost and isinstance(err, RunFailed) and err.exit_code == 1
    assert str(err) == ("a Dask worker died while running part of the job (KilledWorker, last on "
                        "tcp://10.0.0.7:8790; see that worker's log)")
    run_error = _failed(killed, "run 0123 failed", "the next run retries these records")
    assert type(run_error) is WorkerLost and "\n" not in str(run_error)
    assert str(run_error).startswith("run 0123 failed: a Dask worker died") and "offsets not committed" in str(run_error)


def test_leaders_file_is_read_by_the_launcher_and_travels_as_data(tmp_path):
    from connectors.errors import ConfigError
    from pipeline.job import JobSpec
    from pipeline.run import _leaders

    path = tmp_path / "leaders.yaml"
    path.write_text("- {name: Anna Holt, aliases: [Holt], role: prime minister, country: X, from: 2020-01-01, to: null}\n")
    gazetteer = _leaders(str(path))
    assert gazetteer.lookup("Holt").role == "prime minister"
    # it travels pickled inside the job's steps
    import cloudpickle
    assert cloudpickle.loads(cloudpickle.dumps(gazetteer)).lookup("Holt").role == "prime minister"
    assert "leaders_file" not in JobSpec.__dataclass_fields__  # no launcher path reaches a worker
    with pytest.raises(ConfigError, match="nlp.leaders_file .*missing.yaml"):
        _leaders(str(tmp_path / "missing.yaml"))


def test_dask_options_are_known_to_the_option_check():
    """`newsbeam run` refuses options Beam does not define: the Dask runner's own (Beam's and
    ours) are defined once the runner named by --runner (here or in pipeline.beam_args) is."""
    import subprocess
    import sys

    code = ("from pipeline.beam_options import unknown_beam_options as u; "
            "print(u(['--dask_client_address=tcp://h:1', '--dask_shuffle_partitions=8', '--bogus'], "
            "runner_args=['--runner=DaskRunner']))")
    # a fresh interpreter: options register on import, so an earlier test must not have done it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "['--bogus']"


def test_summary_line_names_only_counters_that_counted_something():
    from pipeline.run import RunSummary

    summary = RunSummary("written", run_id="r1", records=13, rows={},
                         counters={"items_decoded": 13, "duplicates_dropped": 13, "quotes": 0,
                                   "leadership_statements": 0, "rejects": 0}, location="s3://b/p")
    assert "13 records -> no rows (duplicates_dropped 13) in" in summary.line()
    assert "quotes" not in summary.line()


def test_the_dask_client_is_closed_when_the_job_ends():
    """Done or failed, the job's client is closed (an in-process Dask cluster: no services)."""
    from distributed import Client

    from pipeline.dask_runner import _Result

    def fail():
        raise RuntimeError("worker error")

    for task, raised in ((lambda: 1, None), (fail, RuntimeError)):
        client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
        try:
            result = _Result(client, [client.submit(task, pure=False)])
            if raised:
                with pytest.raises(raised, match="worker error"):
                    result.wait_until_finish()
            else:
                assert result.wait_until_finish() == "DONE"
            assert client.status == "closed"
        finally:
            client.close()
            client.cluster.close()
