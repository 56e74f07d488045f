"""Re-create the JSON schemas in this folder (used by kubeconform in tests/unit/test_deploy_manifests.py).

They come from the `kubernetes-validate` package on PyPI (the Kubernetes OpenAPI converted to
JSON schema, "strict": unknown fields are errors). Each kind's schema is made standalone with
only the definitions it reaches and without descriptions, so the repository holds what the
manifests need and no more:

    pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0
    python deploy/k8s/schemas/vendor.py /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

Add a kind here when a manifest starts using it (the test fails and names it until then);
`pod-v1` checks the pods the Airflow DAG (deploy/airflow) creates.
"""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

KUBERNETES = "v1.31.0"   # the oldest Kubernetes the manifests are checked against
KINDS = ["namespace-v1", "serviceaccount-v1", "configmap-v1", "persistentvolumeclaim-v1", "pod-v1",
         "deployment-apps-v1", "cronjob-batch-v1"]
HERE = Path(__file__).resolve().parent
# Kind files point into _definitions.json; definitions point at each other locally.
PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")


def _name(ref) -> str | None:
    for prefix in PREFIXES:
        if isinstance(ref, str) and ref.startswith(prefix):
            return ref[len(prefix):]
    return None


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        name = _name(node.get("$ref"))
        if name:
            found.add(name)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _local(node):
    """Refs made local; descriptions dropped (two thirds of the bytes, no part of validation)."""
    if isinstance(node, dict):
        return {k: ("#/$defs/" + _name(v) if k == "$ref" and _name(v) else _local(v)) for k, v in node.items()
                if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [_local(v) for v in node]
    return node


def standalone(kind_schema: dict, definitions: dict) -> dict:
    needed: set[str] = set()
    todo: set[str] = set()
    _refs(kind_schema, todo)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        _refs(definitions[name], todo)
    out = _local({k: v for k, v in kind_schema.items() if k != "$id"})
    out["$defs"] = {name: _local(definitions[name]) for name in sorted(needed)}
    return out


def main(wheel: str) -> None:
    base = f"kubernetes_validate/kubernetes-json-schema/{KUBERNETES}-local-strict/"
    with zipfile.ZipFile(wheel) as zf:
        definitions = json.loads(zf.read(base + "_definitions.json"))["$defs"]
        for kind in KINDS:
            schema = standalone(json.loads(zf.read(base + kind + ".json")), definitions)
            (HERE / f"{kind}.json").write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n")
    (HERE / "VERSION").write_text(f"{KUBERNETES}-standalone-strict (from {Path(wheel).name})\n")


if __name__ == "__main__":
    main(sys.argv[1])
