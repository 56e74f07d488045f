"""Load deploy/airflow/newsbeam_dag.py without Airflow installed: recording stand-ins for the
few names it imports (DAG, KubernetesPodOperator, kubernetes.client.models, pendulum) keep every
argument the DAG passes, and `pod_manifest` turns one operator into the Pod it would create
(the base container named "base", as KubernetesPodOperator does), so the same checks and the
same kubeconform schemas apply to the DAG's pods as to deploy/k8s.

This checks what the DAG asks for, not Airflow itself; the operator arguments used are those of
apache-airflow-providers-cncf-kubernetes 10.x.
"""
from __future__ import annotations

import importlib.util
import re
import sys
import types
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo


class Model:
    """A kubernetes.client model: keeps its keyword arguments; `to_dict` gives the API's JSON."""

    kind = "Model"

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def to_dict(self):
        return {_camel(k): _plain(v) for k, v in self.kwargs.items() if v is not None}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _plain(value):
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class _Models(types.ModuleType):
    def __getattr__(self, name: str):
        if not name.startswith("V1"):
            raise AttributeError(name)
        cls = type(name, (Model,), {"kind": name})
        setattr(self, name, cls)
        return cls


class Operator:
    """KubernetesPodOperator (or any operator): records its arguments and `>>` edges."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.task_id = kwargs["task_id"]
        self.downstream: list[str] = []
        DAG.current.tasks[self.task_id] = self

    def __rshift__(self, other):
        self.downstream.append(other.task_id)
        return other


class DAG:
    current = None

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.tasks: dict[str, Operator] = {}

    def __enter__(self):
        DAG.current = self
        return self

    def __exit__(self, *exc):
        DAG.current = None


def _module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def load_dag(path: Path) -> DAG:
    """Execute the DAG file against the stand-ins; returns the DAG with its recorded tasks."""
    models = _Models("kubernetes.client.models")
    fakes = {
        "airflow": _module("airflow", DAG=DAG),
        "airflow.providers": _module("airflow.providers"),
        "airflow.providers.cncf": _module("airflow.providers.cncf"),
        "airflow.providers.cncf.kubernetes": _module("airflow.providers.cncf.kubernetes"),
        "airflow.providers.cncf.kubernetes.operators": _module("airflow.providers.cncf.kubernetes.operators"),
        "airflow.providers.cncf.kubernetes.operators.pod": _module(
            "airflow.providers.cncf.kubernetes.operators.pod", KubernetesPodOperator=Operator),
        "kubernetes": _module("kubernetes"),
        "kubernetes.client": _module("kubernetes.client", models=models),
        "kubernetes.client.models": models,
        "pendulum": _module("pendulum", datetime=lambda *a, tz="UTC", **kw: datetime(*a, tzinfo=ZoneInfo(tz), **kw)),
    }
    saved = {name: sys.modules.get(name) for name in fakes}
    sys.modules.update(fakes)
    try:
        spec = importlib.util.spec_from_file_location("newsbeam_dag_under_test", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return module.dag


def pod_manifest(op: Operator) -> dict:
    """The Pod a KubernetesPodOperator with these arguments creates (the fields it sets)."""
    kw = op.kwargs
    container = {"name": "base", "image": kw["image"], "command": kw.get("cmds"), "args": kw.get("arguments"),
                 "env": _plain(kw.get("env_vars")), "envFrom": _plain(kw.get("env_from")),
                 "resources": _plain(kw.get("container_resources")),
                 "securityContext": _plain(kw.get("container_security_context")),
                 "volumeMounts": _plain(kw.get("volume_mounts"))}
    spec = {"containers": [{k: v for k, v in container.items() if v is not None}], "restartPolicy": "Never",
            "serviceAccountName": kw.get("service_account_name"),
            "automountServiceAccountToken": kw.get("automount_service_account_token"),
            "securityContext": _plain(kw.get("security_context")), "volumes": _plain(kw.get("volumes"))}
    name = re.sub(r"[^a-z0-9-]", "-", kw.get("name") or op.task_id)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": kw.get("namespace")},
            "spec": {k: v for k, v in spec.items() if v is not None}}
