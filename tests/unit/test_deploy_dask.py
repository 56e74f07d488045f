"""deploy/k8s/dask: the Dask cluster overlay hangs together with the base and the real CLI.
(tests/unit/test_deploy_manifests.py checks its files like every manifest: schema, restricted
pod security, commands, references.)"""
from __future__ import annotations

from pathlib import Path

import yaml

from pipeline import engines
from test_deploy_manifests import _pod_spec, cli_problem, restricted_problems

ROOT = Path(__file__).resolve().parents[2]
DASK = ROOT / "deploy" / "k8s" / "dask"


def _doc(path: Path) -> dict:
    (doc,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return doc


def test_overlay_lists_its_files_and_the_base():
    kust = yaml.safe_load((DASK / "kustomization.yaml").read_text())
    assert "../" in kust["resources"]
    listed = set(kust["resources"]) | {p["path"] for p in kust["patches"]}
    assert listed - {"../"} == {p.name for p in DASK.glob("*.yaml")} - {"kustomization.yaml"}


def test_the_run_goes_to_the_scheduler_service_and_the_rest_of_the_base_cronjob_holds():
    base, dask = _doc(ROOT / "deploy/k8s/pipeline-cronjob.yaml"), _doc(DASK / "pipeline-cronjob.yaml")
    assert (dask["kind"], dask["metadata"]["name"]) == (base["kind"], base["metadata"]["name"])  # merged over it
    for key in ("schedule", "concurrencyPolicy"):
        assert dask["spec"][key] == base["spec"][key]
    (run,) = _pod_spec(dask)["containers"]
    assert cli_problem(run["command"]) is None
    options = engines.pipeline_options(run["command"][2:], 4).get_all_options()
    assert options["runner"] == engines.DASK_RUNNER
    cluster = _doc(DASK / "daskcluster.yaml")
    port = {p["name"]: p["port"] for p in cluster["spec"]["scheduler"]["service"]["ports"]}["tcp-comm"]
    assert options["address"] == f"tcp://{cluster['metadata']['name']}-scheduler:{port}"


def test_dask_pods_meet_the_restricted_standard_and_workers_run_as_the_pipeline():
    cluster = _doc(DASK / "daskcluster.yaml")
    for role in ("scheduler", "worker"):
        assert restricted_problems(role, cluster["spec"][role]["spec"]) == []
    worker_pod = cluster["spec"]["worker"]["spec"]
    assert worker_pod["serviceAccountName"] == _pod_spec(_doc(ROOT / "deploy/k8s/pipeline-cronjob.yaml"))["serviceAccountName"]
    (worker,) = worker_pod["containers"]
    args = worker["args"]
    assert args[:2] == ["dask", "worker"] and args[args.index("--nthreads") + 1] == "1"
    nanny_limit = float(args[args.index("--memory-limit") + 1].removesuffix("GiB")) * 1024
    assert nanny_limit < float(worker["resources"]["limits"]["memory"].removesuffix("Mi"))
    (scheduler,) = cluster["spec"]["scheduler"]["spec"]["containers"]
    assert {"name": "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES", "value": "0"} in scheduler["env"]
