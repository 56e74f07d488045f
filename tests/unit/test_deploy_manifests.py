"""deploy/: every manifest parses, hangs together, and only runs `newsbeam` commands the real CLI
accepts (checked against `pipeline.cli.build_parser()`, so a renamed subcommand or option
breaks this test instead of a production deployment)."""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from connectors.alerts.config import AlertsConfig
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import load_feed_list
from airflow_standin import load_dag, pod_manifest
from pipeline.beam_options import unknown_beam_options
from pipeline.cli import build_parser
from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
K8S = DEPLOY / "k8s"
DOCKER = DEPLOY / "docker"
DAG = DEPLOY / "airflow" / "newsbeam_dag.py"


# ----------------------------------------------------------------------------- the CLI checker
def cli_problem(argv: list[str]) -> str | None:
    """None when the real parser accepts `newsbeam ARGS...`, else its complaint. Options it does
    not define pass only for subcommands that hand them to Beam (`set_defaults(beam=True)`), and
    only when Beam defines them (the CLI's own check, pipeline/beam_options.py)."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            args, extra = build_parser().parse_known_args(argv[1:])
    except SystemExit as exc:
        return None if exc.code == 0 else (err.getvalue().strip().splitlines() or ["rejected"])[-1]
    bad = unknown_beam_options(extra) if getattr(args, "beam", False) else extra
    return f"unrecognized arguments: {' '.join(bad)}" if bad else None


@pytest.mark.parametrize("line", ["newsbeam runn", "newsbeam poll --bogus", "newsbeam poll --once --forever",
                                  "newsbeam run --bogus=1", "newsbeam run --direct_num_worker=2",
                                  "newsbeam", "newsbeam feeds", "newsbeam run stray-word",
                                  "newsbeam query", "newsbeam alerts test"])
def test_checker_rejects_what_the_cli_rejects(line):
    assert cli_problem(shlex.split(line)) is not None


@pytest.mark.parametrize("line", ["newsbeam run", "newsbeam run --json --runner=PrismRunner",
                                  "newsbeam run --config /etc/x.yaml", "newsbeam status --config /etc/x.yaml",
                                  "newsbeam poll --forever", "newsbeam --config /etc/x.yaml poll --once",
                                  "newsbeam feeds status --json", "newsbeam alerts list", "newsbeam --help"])
def test_checker_accepts_what_the_cli_accepts(line):
    assert cli_problem(shlex.split(line)) is None


def test_checker_knows_every_subcommand_of_the_parser():
    # Derived, not listed: every subcommand the parser has is accepted as a first word.
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert {"run", "poll"} <= set(sub.choices)
    for name, subparser in sub.choices.items():
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_problem(["newsbeam", name, "--help"]) is None, name


# ----------------------------------------------------------------------------- command extraction
_OPERATORS = {";", "&&", "||", "|", "&", "(", ")", "\n"}
_LEADING_KEYWORDS = {"do", "then", "else", "exec", "time", "!"}


def _is_newsbeam(word: str) -> bool:
    return word.rsplit("/", 1)[-1] == "newsbeam"


def shell_commands(script: str) -> list[list[str]]:
    """`newsbeam ...` invocations at command position in a shell script (redirections dropped)."""
    lexer = shlex.shlex(script.replace("\\\n", " ").replace("\n", " ; "), posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    found, current, at_start, redirect = [], None, True, False
    for token in lexer:
        if redirect:            # the file name after > or <
            redirect = False
            continue
        if set(token) <= set("<>"):
            redirect = True
            continue
        if token in _OPERATORS or set(token) <= set(";&|()"):
            current, at_start = None, True
            continue
        if current is not None:
            current.append(token)
        elif at_start and _is_newsbeam(token):
            current = ["newsbeam"]
            found.append(current)
        at_start = at_start and token in _LEADING_KEYWORDS
    return found


def argv_commands(argv: list[str]) -> list[list[str]]:
    if not argv:
        return []
    if _is_newsbeam(argv[0]):
        return [["newsbeam", *argv[1:]]]
    if argv[0].rsplit("/", 1)[-1] in ("sh", "bash") and "-c" in argv[:-1]:
        return shell_commands(argv[argv.index("-c") + 1])
    return []


def yaml_commands(node) -> list[list[str]]:
    """From compose `command:`/`entrypoint:` and k8s `command:` + `args:` anywhere in a document."""
    found = []
    if isinstance(node, dict):
        for key in ("command", "entrypoint"):
            value = node.get(key)
            if isinstance(value, list):
                found += argv_commands([str(v) for v in value] + [str(v) for v in node.get("args") or []])
            elif isinstance(value, str):
                found += shell_commands(value)
        for value in node.values():
            found += yaml_commands(value)
    elif isinstance(node, list):
        for value in node:
            found += yaml_commands(value)
    return found


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """systemd unit -> {section: [(key, value), ...]}; keeps repeated keys (systemd allows them)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if re.fullmatch(r"\[[A-Za-z]+\]", line):
            current = sections.setdefault(line[1:-1], [])
        elif "=" in line and current is not None:
            key, _, value = line.partition("=")
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), f"{path.name}:{n}: bad key {key!r}"
            current.append((key.strip(), value.strip()))
        else:
            raise AssertionError(f"{path.name}:{n}: not a section header or Key=value: {raw!r}")
    return sections


def unit_value(unit: dict, section: str, key: str) -> str | None:
    values = [v for k, v in unit.get(section, []) if k == key]
    return values[-1] if values else None


def systemd_commands(path: Path) -> list[list[str]]:
    found = []
    for section in read_unit(path).values():
        for key, value in section:
            if key.startswith("Exec"):
                found += argv_commands(shlex.split(value.lstrip("-@:+!")))
    return found


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def dockerfile_commands(path: Path) -> list[list[str]]:
    found = []
    for word, rest in dockerfile_instructions(path):
        if word in ("RUN", "CMD", "ENTRYPOINT"):
            found += argv_commands(json.loads(rest)) if rest.startswith("[") else shell_commands(rest)
    return found


def dag_commands(path: Path) -> list[list[str]]:
    """`cmds + arguments` of every KubernetesPodOperator (and any bash_command) of the DAG."""
    found = []
    for op in load_dag(path).tasks.values():
        if "bash_command" in op.kwargs:
            found += shell_commands(op.kwargs["bash_command"])
        found += argv_commands([*(op.kwargs.get("cmds") or []), *(op.kwargs.get("arguments") or [])])
    return found


def all_deploy_commands() -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for path in sorted(DEPLOY.rglob("*")):
        rel = str(path.relative_to(ROOT))
        if path.suffix in (".yaml", ".yml"):
            out[rel] = [c for doc in yaml.safe_load_all(path.read_text()) for c in yaml_commands(doc)]
        elif path.suffix in (".service", ".timer"):
            out[rel] = systemd_commands(path)
        elif path.name == "Dockerfile":
            out[rel] = dockerfile_commands(path)
        elif path.suffix == ".py" and path.parent.name == "airflow":
            out[rel] = dag_commands(path)
    return out


def test_extractor_finds_commands_in_every_kind_of_file():
    assert shell_commands("while true; do newsbeam run; sleep 900; done") == [["newsbeam", "run"]]
    assert shell_commands("x --bucket newsbeam && /opt/v/bin/newsbeam poll --once | tee log") == \
        [["newsbeam", "poll", "--once"]]
    assert shell_commands("newsbeam kafka acls --format msk-iam > p.json; newsbeam run < /dev/null") == \
        [["newsbeam", "kafka", "acls", "--format", "msk-iam"], ["newsbeam", "run"]]
    found = {rel: sorted(" ".join(c) for c in cmds) for rel, cmds in all_deploy_commands().items()}
    assert found["deploy/systemd/newsbeam-poll.service"] == ["newsbeam poll --forever --metrics-port 9464"]
    assert found["deploy/systemd/newsbeam-run.service"] == ["newsbeam run"]
    assert found["deploy/systemd/newsbeam-run-continuous.service"] == ["newsbeam run --continuous"]
    assert found["deploy/k8s/continuous/run-continuous-deployment.yaml"] == ["newsbeam run --continuous"]
    assert found["deploy/k8s/poller-deployment.yaml"] == ["newsbeam poll --forever --metrics-port 9464 --metrics-addr 0.0.0.0"]
    assert found["deploy/k8s/pipeline-cronjob.yaml"] == [
        "newsbeam run --direct_num_workers=$(BEAM_WORKERS) --direct_running_mode=multi_processing"]
    assert found["deploy/docker/compose.yaml"] == ["newsbeam poll --forever --metrics-port 9464 --metrics-addr 0.0.0.0", "newsbeam run"]
    assert found["deploy/docker/Dockerfile"] == ["newsbeam --help"]
    assert found["deploy/airflow/newsbeam_dag.py"] == [
        "newsbeam poll --once", "newsbeam run --direct_num_workers=$(BEAM_WORKERS) --direct_running_mode=multi_processing"]


def test_every_deployed_command_is_accepted_by_the_cli():
    problems = [f"{rel}: {' '.join(cmd)}: {cli_problem(cmd)}"
                for rel, cmds in all_deploy_commands().items() for cmd in cmds if cli_problem(cmd)]
    assert not problems, "\n".join(problems)


def test_checker_would_catch_a_typo_in_a_manifest(tmp_path):
    # The same extraction + check, on a copy of the CronJob with a misspelt subcommand.
    bad = (K8S / "pipeline-cronjob.yaml").read_text().replace('["newsbeam", "run",', '["newsbeam", "runn",')
    cmds = [c for doc in yaml.safe_load_all(bad) for c in yaml_commands(doc)]
    assert [c[:2] for c in cmds] == [["newsbeam", "runn"]] and cli_problem(cmds[0]) is not None


# ----------------------------------------------------------------------------- YAML everywhere
def test_every_yaml_file_under_deploy_parses():
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(files) >= 9
    for path in files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs, f"{path} is empty"


def _config_with_env(config_text: str, environ: dict[str, str], tmp_path: Path):
    path = tmp_path / "newsbeam.yaml"
    path.write_text(config_text)
    config = load_config(path, environ)  # validates every section, feeds and alerts included
    assert isinstance(config.feeds, PollSettings) and isinstance(config.alerts, AlertsConfig)
    return config, config.alerts


def _env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"{path.name}: not NAME=value: {line!r}"
            env[key] = value
    return env


def _named_env(alerts: AlertsConfig) -> set[str]:
    return {n for s in alerts.sinks for n in (getattr(s, "secret_env", None), getattr(s, "password_env", None)) if n}


# ----------------------------------------------------------------------------- systemd
def test_systemd_units_have_their_sections():
    units = {p.name: read_unit(p) for p in SYSTEMD.glob("newsbeam-*.*")}
    assert set(units) == {"newsbeam-poll.service", "newsbeam-run.service", "newsbeam-run.timer",
                          "newsbeam-run-continuous.service"}
    for name, unit in units.items():
        assert unit_value(unit, "Unit", "Description"), name
        if name.endswith(".service"):
            assert unit_value(unit, "Service", "ExecStart"), name
            assert unit_value(unit, "Service", "EnvironmentFile") == "/etc/newsbeam/newsbeam.env", name
    poll, run, timer = units["newsbeam-poll.service"], units["newsbeam-run.service"], units["newsbeam-run.timer"]
    assert unit_value(poll, "Service", "Restart") in ("on-failure", "always")
    assert unit_value(poll, "Install", "WantedBy") == "multi-user.target"
    assert unit_value(run, "Service", "Type") == "oneshot"
    assert unit_value(timer, "Timer", "OnCalendar") == "*:0/15"
    assert (SYSTEMD / unit_value(timer, "Timer", "Unit")).is_file()
    assert unit_value(timer, "Install", "WantedBy") == "timers.target"
    # The continuous run replaces the timer (never both), stops on SIGTERM after its micro-batch
    # and is given the time for one before systemd kills it.
    continuous = units["newsbeam-run-continuous.service"]
    assert unit_value(continuous, "Service", "Type") == "simple"
    assert set(unit_value(continuous, "Unit", "Conflicts").split()) == {"newsbeam-run.timer", "newsbeam-run.service"}
    assert unit_value(continuous, "Service", "KillSignal") == "SIGTERM"
    assert unit_value(continuous, "Service", "TimeoutStopSec") == "10min"
    assert unit_value(continuous, "Service", "Restart") == "on-failure"
    assert unit_value(continuous, "Install", "WantedBy") == "multi-user.target"


def test_systemd_config_and_env_file_load_together(tmp_path):
    env = _env_file(SYSTEMD / "newsbeam.env.example")
    config, alerts = _config_with_env((SYSTEMD / "newsbeam.yaml").read_text(), env, tmp_path)
    # The env file supplies every secret the alert sinks name; S3 keys are commented out, so the
    # standard AWS chain (an instance role) is used unless the operator sets them on purpose.
    assert _named_env(alerts) and _named_env(alerts) <= set(env)
    assert config.s3.access_key_id is None and config.s3.secret_access_key is None
    assert "# NEWSBEAM_S3__ACCESS_KEY_ID=" in (SYSTEMD / "newsbeam.env.example").read_text()


# ----------------------------------------------------------------------------- kubernetes
SCHEMAS = K8S / "schemas"
OPS_DOC = ROOT / "docs" / "operations.md"
# Peaks measured by bench/e2e.py at the default nlp.batch_chars (bench/RESULTS.md): the largest SDK
# worker 1110 MB (VmHWM), the launcher ~0.5 GB. The documented formula must cover them.
MEASURED_WORKER_PEAK_MB = 1110
MEASURED_LAUNCHER_PEAK_MB = 500
# API groups served by Kubernetes itself: their kinds must have a vendored schema (a CRD, e.g. an
# engine operator's, is validated only where its schema is vendored).
BUILTIN_GROUPS = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
                  "autoscaling/v2", "scheduling.k8s.io/v1", "storage.k8s.io/v1"}


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml" and SCHEMAS not in p.parents)


def _k8s_docs() -> list[tuple[Path, dict]]:
    docs = []
    for path in _manifest_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                assert {"apiVersion", "kind", "metadata"} <= set(doc), path.name
                docs.append((path, doc))
    return docs


def _k8s_objects() -> dict[tuple[str, str], dict]:
    """Every object under deploy/k8s (engine folders included), by (kind, name)."""
    return {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in _k8s_docs()}


def _pod_spec(obj: dict) -> dict | None:
    kind = obj["kind"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if kind == "Pod":
        return obj["spec"]
    return None


def _dag_pods() -> dict[str, dict]:
    return {task: pod_manifest(op) for task, op in load_dag(DAG).tasks.items()}


def _all_pods() -> dict[str, dict]:
    """Every pod spec newsbeam ships: the k8s workloads and the pods of the Airflow DAG."""
    pods = {f"{p.relative_to(ROOT)}:{o['kind']}/{o['metadata']['name']}": _pod_spec(o)
            for p, o in _k8s_docs() if _pod_spec(o)}
    pods.update({f"{DAG.relative_to(ROOT)}:{task}": pod["spec"] for task, pod in _dag_pods().items()})
    assert len(pods) >= 4
    return pods


def _newsbeam_argv(container: dict) -> list[str]:
    return [*(container.get("command") or []), *(container.get("args") or [])]


def _is_run(container: dict) -> bool:
    argv = _newsbeam_argv(container)
    return len(argv) >= 2 and _is_newsbeam(argv[0]) and argv[1] == "run"


def _is_direct_run(container: dict) -> bool:
    """A `newsbeam run` on the DirectRunner (the default): its workers live in this pod. Another
    runner (--runner=FlinkRunner ...) sizes its workers elsewhere."""
    runners = [a.split("=", 1)[1] for a in _newsbeam_argv(container) if a.startswith("--runner=")]
    return _is_run(container) and runners in ([], ["DirectRunner"])


def _quantity(value) -> float:
    """Kubernetes quantity -> float (CPU in cores, memory in bytes)."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def documented_memory_formula() -> tuple[int, int]:
    """(launcher MiB, per-worker MiB) from docs/operations.md: `memory ≥ A MiB + N × B MiB`."""
    found = re.findall(r"memory ≥ (\d+) MiB \+ N × (\d+) MiB", OPS_DOC.read_text(encoding="utf-8"))
    assert found, "docs/operations.md must state the memory formula as `memory ≥ A MiB + N × B MiB`"
    assert len(set(found)) == 1, f"docs/operations.md states different memory formulas: {found}"
    return int(found[0][0]), int(found[0][1])


def test_documented_memory_formula_covers_the_measured_peaks():
    launcher, worker = documented_memory_formula()
    assert worker * 2**20 >= MEASURED_WORKER_PEAK_MB * 1e6
    assert launcher * 2**20 >= MEASURED_LAUNCHER_PEAK_MB * 1e6


def worker_problems(name: str, pod: dict, container: dict) -> list[str]:
    """A `newsbeam run` container must take its Beam worker count from its own CPU request
    (Downward API) and have the memory the documented formula gives for that many workers."""
    problems = []
    argv = _newsbeam_argv(container)
    flags = [a for a in argv if a.startswith("--direct_num_workers")]
    if "--continuous" in argv and not flags and not any(a.startswith("--direct_running_mode") for a in argv):
        return _in_process_problems(name, container)
    match = re.fullmatch(r"--direct_num_workers=\$\((\w+)\)", flags[0]) if len(flags) == 1 else None
    if not match:
        return [f"{name}: `newsbeam run` needs exactly one --direct_num_workers=$(VAR), got {flags}"]
    env = {e["name"]: e for e in container.get("env") or []}
    ref = ((env.get(match.group(1)) or {}).get("valueFrom") or {}).get("resourceFieldRef") or {}
    if ref.get("resource") != "requests.cpu" or ref.get("containerName", container["name"]) != container["name"] \
            or str(ref.get("divisor", "1")) != "1":
        problems.append(f"{name}: {match.group(1)} must be the container's requests.cpu (divisor 1), got {ref}")
    if "--direct_running_mode=multi_processing" not in argv:
        problems.append(f"{name}: without --direct_running_mode=multi_processing the workers share one core")
    resources = container.get("resources") or {}
    cpu = (resources.get("requests") or {}).get("cpu")
    if cpu is None:
        return problems + [f"{name}: no CPU request to size the workers by"]
    workers = math.ceil(_quantity(cpu))          # the Downward API rounds up with divisor 1
    launcher, per_worker = documented_memory_formula()
    need = (launcher + workers * per_worker) * 2**20
    for kind in ("requests", "limits"):
        memory = (resources.get(kind) or {}).get("memory")
        if memory is None or _quantity(memory) < need:
            problems.append(f"{name}: memory {kind} {memory} < {need / 2**20:.0f}Mi for {workers} workers "
                            f"({launcher} MiB + {workers} × {per_worker} MiB)")
    return problems


def _in_process_problems(name: str, container: dict) -> list[str]:
    """`run --continuous` on the DirectRunner's default in-process mode keeps its model warm in
    its own process: one worker, so one CPU, and memory for the launcher plus one worker."""
    resources = container.get("resources") or {}
    cpu = (resources.get("requests") or {}).get("cpu")
    if cpu is None or _quantity(cpu) > 1:
        return [f"{name}: an in-process continuous run uses one core; request cpu 1 (got {cpu})"]
    launcher, per_worker = documented_memory_formula()
    need = (launcher + per_worker) * 2**20
    return [f"{name}: memory {kind} {memory} < {need / 2**20:.0f}Mi for the launcher and one worker"
            for kind in ("requests", "limits")
            for memory in [(resources.get(kind) or {}).get("memory")]
            if memory is None or _quantity(memory) < need]


def test_worker_count_follows_the_cpu_request_and_memory_the_formula():
    runs = 0
    problems = []
    for name, pod in _all_pods().items():
        for c in pod["containers"]:
            if _is_direct_run(c):
                runs += 1
                problems += worker_problems(name, pod, c)
    assert runs >= 2 and not problems, "\n".join(problems)
    # Nothing may fall back to the node's CPU count (--direct_num_workers=0), not even via the config.
    for path in [*_manifest_files(), DAG]:
        assert "direct_num_workers=0" not in path.read_text(), path
    config = yaml.safe_load(_k8s_objects()[("ConfigMap", "newsbeam-config")]["data"]["newsbeam.yaml"])
    assert not any("direct_num_workers" in a for a in config.get("pipeline", {}).get("beam_args", []))


def test_worker_check_catches_node_sized_or_undersized_runs():
    cron = _k8s_objects()[("CronJob", "newsbeam-run")]
    pod = _pod_spec(cron)
    good = pod["containers"][0]
    assert worker_problems("cron", pod, good) == []
    node_sized = {**good, "command": ["newsbeam", "run", "--direct_num_workers=0"]}
    assert "exactly one --direct_num_workers=$(VAR)" in worker_problems("x", pod, node_sized)[0]
    more_cpu = {**good, "resources": {**good["resources"], "requests": {**good["resources"]["requests"], "cpu": "3"}}}
    assert any("memory requests 3Gi < 3968Mi for 3 workers" in p for p in worker_problems("x", pod, more_cpu))
    continuous = {**good, "command": ["newsbeam", "run", "--continuous"]}
    assert any("one core" in p for p in worker_problems("x", pod, continuous))  # 2 CPUs requested
    small = {**continuous, "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}
    assert any("for the launcher and one worker" in p for p in worker_problems("x", pod, small))
    other_field = {**good, "env": [e if e["name"] != "BEAM_WORKERS" else
                                   {"name": "BEAM_WORKERS", "valueFrom": {"resourceFieldRef": {
                                       "resource": "limits.cpu", "divisor": "1"}}} for e in good["env"]]}
    assert any("requests.cpu" in p for p in worker_problems("x", pod, other_field))


def restricted_problems(name: str, pod: dict) -> list[str]:
    """The `restricted` Pod Security Standard, plus a read-only root file system whose writable
    paths are volumes."""
    problems = []
    psc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            problems.append(f"{name}: {key}")
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    if any("hostPath" in v for v in volumes.values()):
        problems.append(f"{name}: hostPath volume")
    for c in [*pod.get("initContainers", []), *pod["containers"]]:
        csc = c.get("securityContext") or {}
        where = f"{name}/{c['name']}"
        if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
            problems.append(f"{where}: runAsNonRoot must be true")
        if csc.get("runAsUser", psc.get("runAsUser")) == 0:
            problems.append(f"{where}: runAsUser 0")
        seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{where}: seccompProfile must be RuntimeDefault, got {seccomp}")
        if csc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation must be false")
        if csc.get("privileged"):
            problems.append(f"{where}: privileged")
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []) or set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: capabilities must drop ALL (and add at most NET_BIND_SERVICE)")
        if csc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem must be true")
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
        if "/tmp" not in mounts:
            problems.append(f"{where}: /tmp must be a volume (Python, Beam and SQLite write temporary files)")
        for path, m in mounts.items():
            v = volumes.get(m["name"], {})
            if not m.get("readOnly") and not ({"emptyDir", "persistentVolumeClaim", "ephemeral"} & set(v)):
                problems.append(f"{where}: writable mount {path} is not an emptyDir or a volume claim")
    return problems


def test_every_pod_meets_the_restricted_pod_security_standard():
    problems = [p for name, pod in _all_pods().items() for p in restricted_problems(name, pod)]
    assert not problems, "\n".join(problems)
    labels = _k8s_objects()[("Namespace", "newsbeam")]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_restricted_check_catches_each_missing_field():
    pod = _pod_spec(_k8s_objects()[("Deployment", "newsbeam-poller")])
    assert restricted_problems("poller", pod) == []
    c = pod["containers"][0]
    cases = {
        "seccompProfile": {**pod, "securityContext": {k: v for k, v in pod["securityContext"].items()
                                                      if k != "seccompProfile"}},
        "capabilities must drop ALL": {**pod, "containers": [{**c, "securityContext": {
            **c["securityContext"], "capabilities": {"drop": ["NET_RAW"]}}}]},
        "readOnlyRootFilesystem": {**pod, "containers": [{**c, "securityContext": {
            k: v for k, v in c["securityContext"].items() if k != "readOnlyRootFilesystem"}}]},
        "/tmp must be a volume": {**pod, "containers": [{**c, "volumeMounts": [
            m for m in c["volumeMounts"] if m["mountPath"] != "/tmp"]}]},
        "allowPrivilegeEscalation": {**pod, "containers": [{**c, "securityContext": {
            **c["securityContext"], "allowPrivilegeEscalation": True}}]},
    }
    for expected, broken in cases.items():
        assert any(expected in p for p in restricted_problems("x", broken)), expected


SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|ACCESS_KEY|API_KEY|CREDENTIAL", re.I)


def test_no_credentials_in_the_manifests(tmp_path):
    # No Secret objects at all: secrets are created out of band (docs/operations.md) or come from roles.
    assert not [o for _, o in _k8s_docs() if o["kind"] == "Secret"]
    for path in [*_manifest_files(), DAG]:
        text = path.read_text()
        for marker in ("CHANGE_ME", "AKIA", "BEGIN PRIVATE KEY", "aws_secret_access_key"):
            assert marker not in text, f"{path}: {marker}"
    # Every secret-named variable comes from a Secret, never as a literal value.
    for name, pod in _all_pods().items():
        for c in pod["containers"]:
            for e in c.get("env") or []:
                if SECRET_NAME.search(e["name"]):
                    assert "value" not in e, f"{name}: {e['name']} has a literal value"
    # The configuration: no S3 keys (they would override the IAM role), no Kafka password.
    config, _ = _config_with_env(_k8s_objects()[("ConfigMap", "newsbeam-config")]["data"]["newsbeam.yaml"], {},
                                 tmp_path)
    assert config.s3.access_key_id is None and config.s3.secret_access_key is None
    assert not [k for k in config.kafka.client_config if SECRET_NAME.search(k)]


def test_every_pod_runs_as_a_service_account_of_the_manifests():
    objs = _k8s_objects()
    used = set()
    for name, pod in _all_pods().items():
        account = pod.get("serviceAccountName")
        assert account and ("ServiceAccount", account) in objs, f"{name}: service account {account!r}"
        assert pod.get("automountServiceAccountToken") is False, f"{name}: mounts an API token it never uses"
        used.add(account)
    assert {"newsbeam-poller", "newsbeam-pipeline"} <= used
    for account in used:
        sa = objs[("ServiceAccount", account)]
        assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")


def test_sqlite_state_lives_on_volume_claims(tmp_path):
    """Poll state, alert ledger and run lock are on a PVC in every pod that writes them, and the
    feed list is read from a directory-mounted ConfigMap (a subPath mount never sees updates)."""
    objs = _k8s_objects()
    config, alerts = _config_with_env(objs[("ConfigMap", "newsbeam-config")]["data"]["newsbeam.yaml"], {}, tmp_path)
    needs = {"poll": [config.feeds.state_path], "run": [alerts.ledger_path, config.pipeline.lock_path]}
    claims = {}
    for name, pod in _all_pods().items():
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for c in pod["containers"]:
            argv = _newsbeam_argv(c)
            command = argv[1] if len(argv) > 1 and _is_newsbeam(argv[0]) else None
            mounts = c.get("volumeMounts") or []
            for path in needs.get(command, []):
                m = max((m for m in mounts if path.startswith(m["mountPath"].rstrip("/") + "/")),
                        key=lambda m: len(m["mountPath"]), default=None)
                assert m and not m.get("readOnly"), f"{name}: {path} is not on a writable mount"
                claim = volumes[m["name"]].get("persistentVolumeClaim", {}).get("claimName")
                assert claim and ("PersistentVolumeClaim", claim) in objs, f"{name}: {path} is not on a PVC"
                claims.setdefault(command, set()).add(claim)
            for m in mounts:
                if "configMap" in volumes[m["name"]]:
                    assert "subPath" not in m, f"{name}: a subPath ConfigMap mount never receives updates"
                    assert config.feeds.feeds_file.startswith(m["mountPath"].rstrip("/") + "/")
    # Poller and run keep their state on different claims (they may run on different nodes), and
    # the poller's claim can be mounted by one pod only.
    assert claims == {"poll": {"newsbeam-poll-state"}, "run": {"newsbeam-run-state"}}
    assert objs[("PersistentVolumeClaim", "newsbeam-poll-state")]["spec"]["accessModes"] == ["ReadWriteOncePod"]


def test_poller_serves_probes_and_metrics_on_its_metrics_port():
    poller = _k8s_objects()[("Deployment", "newsbeam-poller")]
    spec = poller["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]
    [c] = pod["spec"]["containers"]
    argv = _newsbeam_argv(c)
    port = int(argv[argv.index("--metrics-port") + 1])
    assert argv[argv.index("--metrics-addr") + 1] == "0.0.0.0" and "--forever" in argv
    named = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert named == {"metrics": port}
    probes = {k: c[k]["httpGet"] for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert {k: (v["path"], named.get(v["port"], v["port"])) for k, v in probes.items()} == {
        "startupProbe": ("/healthz", port), "livenessProbe": ("/healthz", port), "readinessProbe": ("/readyz", port)}
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"


def test_kustomization_lists_every_manifest():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kust["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    images = {i["name"] for i in kust["images"]}
    pods = [_pod_spec(o) for path, o in _k8s_docs() if path.parent == K8S and _pod_spec(o)]
    assert {c["image"].split(":")[0] for p in pods for c in p["containers"]} == images


def test_continuous_overlay_replaces_the_cronjob_with_one_recreated_pod():
    kust = yaml.safe_load((K8S / "continuous" / "kustomization.yaml").read_text())
    assert kust["resources"] == ["..", "run-continuous-deployment.yaml"]
    [patch] = kust["patches"]
    deleted = yaml.safe_load(patch["patch"])
    assert deleted["$patch"] == "delete" and (deleted["kind"], deleted["metadata"]["name"]) in _k8s_objects()
    deployment = _k8s_objects()[("Deployment", "newsbeam-run-continuous")]["spec"]
    assert deployment["replicas"] == 1 and deployment["strategy"]["type"] == "Recreate"
    # SIGTERM finishes the micro-batch in flight: the grace period must allow one.
    assert deployment["template"]["spec"]["terminationGracePeriodSeconds"] >= 300


def test_k8s_schedule_and_singletons():
    objs = _k8s_objects()
    cron = objs[("CronJob", "newsbeam-run")]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["schedule"] == "*/15 * * * *"
    assert cron["jobTemplate"]["spec"]["backoffLimit"] == 0


def test_k8s_references_resolve_and_config_loads(tmp_path):
    objs = _k8s_objects()
    doc = OPS_DOC.read_text(encoding="utf-8")
    for obj in objs.values():
        pod = _pod_spec(obj)
        if not pod:
            continue
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in pod["containers"]:
            for m in c.get("volumeMounts", []):
                assert m["name"] in volumes
            for ref in c.get("envFrom", []):
                # Secrets are not shipped: the walk-through creates them by name.
                assert f"create secret generic {ref['secretRef']['name']}" in doc
            assert {"name": "NEWSBEAM_CONFIG", "value": "/etc/newsbeam/newsbeam.yaml"} in c["env"]
        for v in volumes.values():
            if "configMap" in v:
                assert ("ConfigMap", v["configMap"]["name"]) in objs
            if "persistentVolumeClaim" in v:
                assert ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) in objs
    cm = objs[("ConfigMap", "newsbeam-config")]["data"]
    config, alerts = _config_with_env(cm["newsbeam.yaml"], {}, tmp_path)
    # The secrets the alert sinks name are those the walk-through puts in the Secret.
    assert _named_env(alerts) and all(f"--from-literal={n}=" in doc for n in _named_env(alerts))
    assert config.feeds.feeds_file == "/etc/newsbeam/feeds.yaml"
    (tmp_path / "feeds.yaml").write_text(cm["feeds.yaml"])
    assert load_feed_list(tmp_path / "feeds.yaml")


# kubeconform: the real Kubernetes schemas (vendored in deploy/k8s/schemas, strict: unknown
# fields are errors) for every manifest and for the pods of the Airflow DAG.
def _kubeconform() -> str:
    path = os.environ.get("NEWSBEAM_KUBECONFORM") or str(ROOT / ".tools" / "bin" / "kubeconform")
    if not Path(path).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"kubeconform not built at {path}: `make kubeconform` (make test builds it)")
        pytest.skip(f"kubeconform not built at {path}: `make kubeconform` builds it (make test does)")
    return path


def kubeconform(files: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([_kubeconform(), "-strict", "-summary", "-ignore-missing-schemas",
                           "-schema-location", str(SCHEMAS / "{{.ResourceKind}}{{.KindSuffix}}.json"),
                           *map(str, files)], capture_output=True, text=True, timeout=120)


def test_every_builtin_kind_has_a_vendored_schema():
    missing = set()
    for path, doc in _k8s_docs():
        if doc["apiVersion"] in BUILTIN_GROUPS:
            group, _, version = doc["apiVersion"].rpartition("/")
            name = f"{doc['kind'].lower()}{'-' + group.split('.')[0] if group else ''}-{version}.json"
            if not (SCHEMAS / name).is_file():
                missing.add(name)
    assert not missing, f"add to KINDS in deploy/k8s/schemas/vendor.py and re-run it: {sorted(missing)}"


def test_kubeconform_accepts_every_manifest_and_the_dag_pods(tmp_path):
    dag_pods = tmp_path / "airflow-dag-pods.yaml"
    dag_pods.write_text(yaml.safe_dump_all(list(_dag_pods().values())))
    out = kubeconform([*_manifest_files(), dag_pods])
    assert out.returncode == 0, out.stdout + out.stderr
    resources = len(_k8s_docs()) + 2
    assert f"{resources} resources found" in out.stdout and "Invalid: 0, Errors: 0" in out.stdout, out.stdout


def test_kubeconform_rejects_a_misspelt_field(tmp_path):
    bad = tmp_path / "poller.yaml"
    bad.write_text((K8S / "poller-deployment.yaml").read_text()
                   .replace("readOnlyRootFilesystem", "readOnlyRootFileSystem"))
    out = kubeconform([bad])
    assert out.returncode != 0 and "readOnlyRootFileSystem" in out.stdout


# ----------------------------------------------------------------------------- docker
def test_dockerfile_installs_with_constraints_from_the_repo():
    instructions = dockerfile_instructions(DOCKER / "Dockerfile")
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [rest for word, rest in instructions if word == "RUN"]
    assert any("pip install -c constraints.txt ." in r for r in runs)
    for word, rest in instructions:
        if word == "COPY":
            for src in rest.split()[:-1]:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository (build context is the root)"


def _default_of(value: str) -> str:
    """Compose interpolation with nothing set: ${NAME:-default} -> default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_compose_services_and_files(tmp_path):
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"
    assert services["seaweedfs"]["image"].startswith("chrislusf/seaweedfs")
    assert {"poller", "run"} <= set(services)
    for name, svc in services.items():
        for dep in svc.get("depends_on") or []:
            assert dep in services, f"{name} depends on unknown {dep}"
        if "build" in svc:
            assert (DOCKER / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve().is_file()
        for volume in svc.get("volumes") or []:
            source = _default_of(volume).split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).resolve().is_file(), f"{name}: {source} missing"
            else:
                assert source in compose["volumes"], f"{name}: volume {source} not declared"
    env = {k: _default_of(str(v)) for k, v in services["poller"]["environment"].items()}
    config, _ = _config_with_env((DOCKER / "newsbeam.compose.yaml").read_text(), env, tmp_path)
    assert config.kafka.bootstrap_servers == "kafka:9092"
    assert config.s3.endpoint_url == "http://seaweedfs:8333"


# ----------------------------------------------------------------------------- airflow
def test_airflow_dag_runs_newsbeam_in_its_image_on_a_schedule():
    dag = load_dag(DAG)
    assert set(dag.tasks) == {"poll", "run"}
    assert dag.tasks["poll"].downstream == ["run"]
    assert dag.kwargs["max_active_runs"] == 1 and dag.kwargs["catchup"] is False
    start = dag.kwargs["start_date"]
    assert start.tzinfo is not None and start.utcoffset().total_seconds() == 0
    for task, op in dag.tasks.items():
        kw = op.kwargs
        # In the newsbeam image, in the newsbeam namespace: nothing runs on the Airflow worker.
        assert kw["image"].rsplit("/", 1)[-1].split(":")[0] == "newsbeam"
        assert kw["namespace"] == "newsbeam" and kw["cmds"] == ["newsbeam"]
        assert kw["on_finish_action"] == "delete_pod" and kw["get_logs"] is True
    assert dag.tasks["run"].kwargs["trigger_rule"] == "all_done"
    assert not [line for line in DAG.read_text().splitlines() if "BashOperator" in line and "import" in line]


# ----------------------------------------------------------------------------- docs/operations.md
def _config_table_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_config_table", ROOT / "docs" / "gen_config_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_operations_doc_config_table_is_current():
    gen = _config_table_generator()
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"{gen.START}\n{gen.generate()}\n{gen.END}" in doc, \
        "docs/operations.md is out of date: run `python docs/gen_config_table.py --write`"


def test_every_config_key_is_documented():
    gen = _config_table_generator()
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    keys = {f"{section}.{name}" for section, model in gen.SECTIONS for name in model.model_fields}
    assert {"kafka.bootstrap_servers", "s3.secret_access_key", "pipeline.lock_path", "feeds.state_path",
            "alerts.ledger_path"} <= keys
    assert set(gen.MEANING) == keys, "docs/gen_config_table.py MEANING must describe exactly the config keys"
    assert not [k for k in sorted(keys) if f"`{k}`" not in doc]


def test_commands_in_the_operations_doc_are_accepted_by_the_cli():
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", doc, flags=re.S)
    cmds = [c for block in blocks for c in shell_commands(re.sub(r"#.*", "", block))]
    assert ["newsbeam", "run", "--since", "2026-11-20"] in cmds and ["newsbeam", "--help"] in cmds
    problems = [f"{' '.join(c)}: {cli_problem(c)}" for c in cmds if cli_problem(c)]
    assert not problems, "\n".join(problems)
