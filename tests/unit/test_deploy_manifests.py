"""deploy/: every manifest parses, hangs together, and only runs `newsbeam` commands the real CLI
accepts (checked against `pipeline.cli.build_parser()`, so a renamed subcommand or option
breaks this test instead of a production deployment)."""
from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from connectors.alerts.config import AlertsConfig
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import load_feed_list
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
    """None when the real parser accepts `newsbeam ARGS...`, else its complaint. Unknown options
    pass only for subcommands that hand them to Beam (`set_defaults(beam=True)`), and only in
    `--name=value` form: a bare word there would be a typo, not a Beam option."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            args, extra = build_parser().parse_known_args(argv[1:])
    except SystemExit as exc:
        return None if exc.code == 0 else (err.getvalue().strip().splitlines() or ["rejected"])[-1]
    beam = getattr(args, "beam", False)
    bad = [x for x in extra if not (beam and x.startswith("--"))]
    return f"unrecognized arguments: {' '.join(bad)}" if bad else None


@pytest.mark.parametrize("line", ["newsbeam runn", "newsbeam poll --bogus", "newsbeam poll --once --forever",
                                  "newsbeam", "newsbeam feeds", "newsbeam run stray-word",
                                  "newsbeam query", "newsbeam alerts test"])
def test_checker_rejects_what_the_cli_rejects(line):
    assert cli_problem(shlex.split(line)) is not None


@pytest.mark.parametrize("line", ["newsbeam run", "newsbeam run --json --runner=PrismRunner",
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
    """`newsbeam ...` invocations at command position in a shell script."""
    lexer = shlex.shlex(script.replace("\\\n", " ").replace("\n", " ; "), posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    found, current, at_start = [], None, True
    for token in lexer:
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
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.keyword) and node.arg == "bash_command" and isinstance(node.value, ast.Constant):
            found += shell_commands(node.value.value)
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
    found = {rel: sorted(" ".join(c) for c in cmds) for rel, cmds in all_deploy_commands().items()}
    assert found["deploy/systemd/newsbeam-poll.service"] == ["newsbeam poll --forever --metrics-port 9464"]
    assert found["deploy/systemd/newsbeam-run.service"] == ["newsbeam run"]
    assert found["deploy/k8s/poller-deployment.yaml"] == ["newsbeam poll --forever --metrics-port 9464 --metrics-addr 0.0.0.0"]
    assert found["deploy/k8s/pipeline-cronjob.yaml"] == ["newsbeam run"]
    assert found["deploy/docker/compose.yaml"] == ["newsbeam poll --forever --metrics-port 9464 --metrics-addr 0.0.0.0", "newsbeam run"]
    assert found["deploy/docker/Dockerfile"] == ["newsbeam --help"]
    assert found["deploy/airflow/newsbeam_dag.py"] == ["newsbeam poll --once", "newsbeam run"]


def test_every_deployed_command_is_accepted_by_the_cli():
    problems = [f"{rel}: {' '.join(cmd)}: {cli_problem(cmd)}"
                for rel, cmds in all_deploy_commands().items() for cmd in cmds if cli_problem(cmd)]
    assert not problems, "\n".join(problems)


def test_checker_would_catch_a_typo_in_a_manifest(tmp_path):
    # The same extraction + check, on a copy of the CronJob with a misspelt subcommand.
    bad = (K8S / "pipeline-cronjob.yaml").read_text().replace('["newsbeam", "run"]', '["newsbeam", "runn"]')
    cmds = [c for doc in yaml.safe_load_all(bad) for c in yaml_commands(doc)]
    assert cmds == [["newsbeam", "runn"]] and cli_problem(cmds[0]) is not None


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
    config = load_config(path, environ)
    PollSettings(**config.feeds)
    return config, AlertsConfig.model_validate(config.alerts)


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
    assert set(units) == {"newsbeam-poll.service", "newsbeam-run.service", "newsbeam-run.timer"}
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


def test_systemd_config_and_env_file_load_together(tmp_path):
    env = _env_file(SYSTEMD / "newsbeam.env.example")
    config, alerts = _config_with_env((SYSTEMD / "newsbeam.yaml").read_text(), env, tmp_path)
    # The env file overrides the S3 keys and supplies every secret the alert sinks name.
    assert config.s3.secret_access_key.get_secret_value() == env["NEWSBEAM_S3__SECRET_ACCESS_KEY"]
    assert _named_env(alerts) and _named_env(alerts) <= set(env)


# ----------------------------------------------------------------------------- kubernetes
def _k8s_objects() -> dict[tuple[str, str], dict]:
    objs = {}
    for path in K8S.glob("*.yaml"):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), path.name
            objs[(doc["kind"], doc["metadata"]["name"])] = doc
    return objs


def test_kustomization_lists_every_manifest():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kust["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    images = {i["name"] for i in kust["images"]}
    pods = [_pod_spec(o) for o in _k8s_objects().values() if _pod_spec(o)]
    assert {c["image"].split(":")[0] for p in pods for c in p["containers"]} == images


def _pod_spec(obj: dict) -> dict | None:
    if obj["kind"] == "Deployment":
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def test_k8s_schedule_and_singletons():
    objs = _k8s_objects()
    cron = objs[("CronJob", "newsbeam-run")]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["schedule"] == "*/15 * * * *"
    poller = objs[("Deployment", "newsbeam-poller")]["spec"]
    assert poller["replicas"] == 1 and poller["strategy"]["type"] == "Recreate"


def test_k8s_references_resolve_and_config_loads(tmp_path):
    objs = _k8s_objects()
    for obj in objs.values():
        pod = _pod_spec(obj)
        if not pod:
            continue
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in pod["containers"]:
            for m in c.get("volumeMounts", []):
                assert m["name"] in volumes
            for ref in c.get("envFrom", []):
                assert ("Secret", ref["secretRef"]["name"]) in objs
            assert {"name": "NEWSBEAM_CONFIG", "value": "/etc/newsbeam/newsbeam.yaml"} in c["env"]
        for v in volumes.values():
            if "configMap" in v:
                assert ("ConfigMap", v["configMap"]["name"]) in objs
            if "persistentVolumeClaim" in v:
                assert ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"]) in objs
    cm = objs[("ConfigMap", "newsbeam-config")]["data"]
    secret = objs[("Secret", "newsbeam-secrets")]["stringData"]
    config, alerts = _config_with_env(cm["newsbeam.yaml"], secret, tmp_path)
    assert _named_env(alerts) <= set(secret)
    assert config.feeds["feeds_file"] == "/etc/newsbeam/feeds.yaml"
    (tmp_path / "feeds.yaml").write_text(cm["feeds.yaml"])
    assert load_feed_list(tmp_path / "feeds.yaml")


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
def test_airflow_dag_polls_then_runs_without_overlap():
    tree = ast.parse(DAG.read_text())
    calls = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "BashOperator":
            kw = {k.arg: k.value for k in node.keywords}
            calls[kw["task_id"].value] = kw["bash_command"].value
    assert calls == {"poll": "newsbeam poll --once", "run": "newsbeam run"}
    dag_kwargs = {k.arg: k.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and getattr(node.func, "id", "") == "DAG" for k in node.keywords}
    assert dag_kwargs["max_active_runs"].value == 1
    assert dag_kwargs["catchup"].value is False
    edges = [(n.left.id, n.right.id) for n in ast.walk(tree)
             if isinstance(n, ast.BinOp) and isinstance(n.op, ast.RShift)]
    assert edges == [("poll", "run")]


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
