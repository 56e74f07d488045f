"""Beam's DaskRunner with a bounded number of partitions per shuffle.

Beam's DaskRunner (apache_beam.runners.dask, 2.77) turns each Flatten into ``dask.bag.concat``,
which adds up the partitions of its inputs, and each GroupByKey into ``Bag.groupby``, whose
task-based shuffle keeps the partitions it is given. Every CoGroupByKey is a Flatten and a
GroupByKey, so along a chain of joins the partitions double again and again: newsbeam's job
(dedup is ~15 joins deep) ended in 3,836 partitions from a single input partition, and a run of
10 records had not finished after 4 minutes of scheduling empty tasks.

This runner is that runner with one change: the input of every GroupByKey is first cut down to
``--dask_shuffle_partitions`` partitions (by default 4 per worker thread of the cluster, so work
is shared out finely enough that no worker waits long for the last one). Everything else -
translation of every other step, the graph, the client, the result - is Beam's. The pipeline
itself is plain portable Beam (see pipeline/job.py); this changes no result, only how many
pieces Dask cuts the data into.

    newsbeam run --runner=DaskRunner --dask_client_address=tcp://scheduler:8786
"""
from __future__ import annotations

import dataclasses

from apache_beam import pvalue
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor
from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask import transform_evaluator as ops
from apache_beam.runners.dask.overrides import _GroupByKeyOnly, dask_overrides
from apache_beam.transforms.sideinputs import SideInputMap

PER_THREAD = 4


class ShuffleOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--dask_shuffle_partitions", type=int, default=None,
            help="partitions of every shuffle (GroupByKey) on the DaskRunner; default: "
                 f"{PER_THREAD} per worker thread of the cluster")


class _BoundedGroupByKey(ops.GroupByKey):
    """GroupByKey on at most ``shuffle_partitions`` partitions (fewer inputs stay as they are)."""

    def apply(self, input_bag, side_inputs=None):
        limit = self.bag_kwargs["shuffle_partitions"]
        if input_bag.npartitions > limit:
            input_bag = input_bag.repartition(npartitions=limit)
        return super().apply(input_bag, side_inputs)


TRANSLATIONS = {**ops.TRANSLATIONS, _GroupByKeyOnly: _BoundedGroupByKey}


class _Result(beam_dask.DaskRunnerResult):
    """Beam's result, which also closes the job's client once the job has ended, done or failed:
    Beam's keeps it open, and a process that runs several jobs (a test session, a library user)
    would keep one client per job, reconnecting forever to a cluster that may be gone."""

    def wait_until_finish(self, duration=None) -> str:
        try:
            return super().wait_until_finish(duration)
        finally:
            if duration is None:  # the job ended (a timed wait may leave it running)
                self.client.close()


@dataclasses.dataclass
class _BagVisitor(PipelineVisitor):
    """Beam's DaskBagVisitor (DaskRunner.to_dask_bag_visitor), reading ``TRANSLATIONS`` above."""

    bag_kwargs: dict
    bags: dict = dataclasses.field(default_factory=dict)

    def visit_transform(self, node) -> None:
        op = TRANSLATIONS.get(node.transform.__class__, ops.NoOp)(node, bag_kwargs=self.bag_kwargs)
        kwargs = {"input_bag": None, "side_inputs": None}
        inputs = list(node.inputs)
        if inputs:
            bag_inputs = []
            for value in inputs:
                if isinstance(value, pvalue.PBegin):
                    bag_inputs.append(None)
                if value.producer in self.bags:
                    bag_inputs.append(self.bags[value.producer])
            single = len(bag_inputs) == 1 and not isinstance(op, ops.Flatten)
            kwargs["input_bag"] = bag_inputs[0] if single else bag_inputs
        if node.side_inputs:
            kwargs["side_inputs"] = [
                SideInputMap(type(si), si._view_options(),
                             ops.DaskBagWindowedIterator(self.bags.get(si.pvalue.producer),
                                                         si._window_mapping_fn))
                for si in node.side_inputs]
        self.bags[node] = op.apply(**kwargs)


class DaskRunner(beam_dask.DaskRunner):
    """Beam's DaskRunner; every GroupByKey on a bounded number of partitions (module docstring)."""

    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist

        dask_options = options.view_as(beam_dask.DaskOptions).get_all_options(
            drop_default=True, current_only=True)
        bag_kwargs = beam_dask.DaskOptions._extract_bag_kwargs(dask_options)
        client = ddist.Client(**dask_options)
        limit = options.view_as(ShuffleOptions).dask_shuffle_partitions
        if not limit:
            limit = PER_THREAD * max(1, sum(client.nthreads().values()))
        bag_kwargs["shuffle_partitions"] = limit

        pipeline.replace_all(dask_overrides())
        visitor = _BagVisitor(bag_kwargs)
        pipeline.visit(visitor)
        # As Beam's runner: compute the last step, which the whole graph feeds (pipeline/job.py
        # ends in one final output for that reason).
        graph = dask.optimize(list(visitor.bags.values())[-1])
        return _Result(client, client.compute(graph))
