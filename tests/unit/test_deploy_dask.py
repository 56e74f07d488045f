"""deploy/k8s/dask: the Dask cluster overlay hangs together with the base and the real CLI."""
from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from pipeline import engines
from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]
DASK = ROOT / "deploy" / "k8s" / "dask"


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_overlay_lists_its_files_and_the_base():
    kust = yaml.safe_load((DASK / "kustomization.yaml").read_text())
    assert "../" in kust["resources"]
    listed = set(kust["resources"]) | {p["path"] for p in kust["patches"]}
    assert listed - {"../"} == {p.name for p in DASK.glob("*.yaml")} - {"kustomization.yaml"}


def test_patch_targets_the_base_run_and_points_it_at_the_scheduler_service():
    base = {(d["kind"], d["metadata"]["name"]): d
            for p in (ROOT / "deploy" / "k8s").glob("*.yaml") for d in _docs(p) if "metadata" in d}
    (patch,) = _docs(DASK / "run-on-dask.yaml")
    target = base[(patch["kind"], patch["metadata"]["name"])]
    names = {c["name"] for c in target["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]}
    (container,) = patch["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["name"] in names
    env = {e["name"]: e["value"] for e in container["env"]}
    args = load_config(None, env).pipeline.beam_args  # the launcher reads it like this
    options = engines.pipeline_options(args, 4).get_all_options()
    assert options["runner"] == engines.DASK_RUNNER

    (cluster,) = _docs(DASK / "daskcluster.yaml")
    service = cluster["spec"]["scheduler"]["service"]
    port = {p["name"]: p["port"] for p in service["ports"]}["tcp-comm"]
    assert options["address"] == f"tcp://{cluster['metadata']['name']}-scheduler:{port}"


def test_workers_run_one_thread_under_a_memory_limit_below_the_pods():
    (cluster,) = _docs(DASK / "daskcluster.yaml")
    (worker,) = cluster["spec"]["worker"]["spec"]["containers"]
    args = worker["args"]
    assert args[:2] == ["dask", "worker"] and args[args.index("--nthreads") + 1] == "1"
    limit = args[args.index("--memory-limit") + 1]
    pod = worker["resources"]["limits"]["memory"]
    assert float(limit.removesuffix("GiB")) < float(pod.removesuffix("Gi"))
    (scheduler,) = cluster["spec"]["scheduler"]["spec"]["containers"]
    assert {"name": "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES", "value": "0"} in scheduler["env"]
    assert shlex.join(scheduler["args"]).startswith("dask scheduler")
