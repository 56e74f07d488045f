"""`newsbeam status`: one screen for the operator: services, consumer lag, last run, feed health."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from connectors import run_ledger, s3
from connectors.errors import OperatorError
from connectors.kafka_source import KafkaSettings, plan_backlog
from pipeline.config import Config


def kafka_lag(config: Config) -> dict:
    ks = KafkaSettings.from_config(config.kafka)
    try:
        backlog = plan_backlog(ks)
        ranges = backlog.ranges
    except OperatorError as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:
        return {"ok": False, "error": f"Kafka broker unreachable at {ks.bootstrap_servers}: {exc}"}
    return {"ok": True, "bootstrap_servers": ks.bootstrap_servers, "topic": ks.topic,
            "group_id": ks.group_id, "lag": sum(r.size for r in ranges),
            "partitions": {r.partition: {"committed": r.start, "end": r.end} for r in ranges},
            # deleted by retention before the group read them; the next run records it
            "retention_lost": backlog.lost_by_partition()}


def last_run(config: Config) -> dict:
    ss = s3.S3Settings.from_config(config.s3)
    try:
        s3.check_reachable(ss)
        claim = _claim_holder(ss, config.kafka.group_id)
        runs, manifest = run_ledger.latest_manifest(ss)
        if manifest is None:
            return {"ok": True, "location": ss.url(ss.prefix), "last_run": None, "claim": claim}
        uncommitted = {f.run for f in run_ledger.data_files(ss)} - run_ledger.committed_runs(ss)
    except OperatorError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "location": ss.url(ss.prefix), "runs": runs,
            "last_run": manifest.model_dump(include={"run_id", "finished_at", "rows", "counters",
                                                     "retention_lost"}),
            "uncommitted_runs": sorted(uncommitted), "claim": claim}


def _claim_holder(ss: s3.S3Settings, group_id: str) -> str | None:
    """The run holding the consumer group's claim (connectors/run_claim.py), in words."""
    from connectors.run_claim import holder_of

    try:
        return holder_of(ss, group_id)
    except Exception as exc:  # S3 answered the check above: only this object is unreadable
        return f"unknown ({type(exc).__name__})"


def feed_health(config: Config) -> dict:
    from connectors.feeds.poller import feeds_status_rows
    from connectors.feeds.state import StateStore

    path = config.feeds.state_path
    if not Path(path).is_file():
        return {"state_path": path, "feeds": 0}
    with StateStore(path) as state:
        rows = feeds_status_rows(state)
    counts = Counter(r["status"].split(" ")[0] for r in rows)
    return {"state_path": path, "feeds": len(rows), **dict(sorted(counts.items())),
            "items_produced": sum(r["items"] or 0 for r in rows)}


def iceberg_state(config: Config) -> dict | None:
    """Per Iceberg table: rows and files of its current snapshot, and committed runs it does not
    hold yet (registered by the next run); None without a catalog."""
    if not config.iceberg.enabled:
        return None
    from connectors import iceberg_register
    from connectors.iceberg_catalog import Catalog, describe

    ss = s3.S3Settings.from_config(config.s3)
    out: dict = {"ok": True, "catalog": describe(config.iceberg), "tables": {}}
    if config.iceberg.catalog == "sql" and not config.iceberg.sqlite_file().is_file():
        return out
    try:
        committed = run_ledger.committed_run_times(ss)
        with Catalog(config.iceberg, ss) as catalog:
            for name in run_ledger.ALL_TABLES:
                table = catalog.load(name)
                if table is None:
                    continue
                current = table.current_snapshot()
                summary = current.summary.additional_properties if current and current.summary else {}
                pending = iceberg_register.pending_runs(
                    committed, iceberg_register.registered_runs(iceberg_register.table_summaries(table)),
                    iceberg_register.horizon(table))
                out["tables"][name] = {"rows": int(summary.get("total-records", 0)),
                                       "files": int(summary.get("total-data-files", 0)),
                                       "snapshots": len(table.metadata.snapshots),
                                       "unregistered_runs": len(pending)}
    except Exception as exc:
        return {"ok": False, "catalog": describe(config.iceberg), "error": str(exc).splitlines()[0][:300]}
    return out


def collect(config: Config) -> dict:
    return {"kafka": kafka_lag(config), "s3": last_run(config), "feeds": feed_health(config),
            "iceberg": iceberg_state(config)}


def render(report: dict) -> str:
    k, s, f = report["kafka"], report["s3"], report["feeds"]
    lines = []
    if k["ok"]:
        lines.append(f"kafka   ok   {k['bootstrap_servers']} topic {k['topic']} group {k['group_id']}: "
                     f"lag {k['lag']} records")
        if k.get("retention_lost"):
            lines.append(f"        LOST to retention before reading (partition: records): {k['retention_lost']}")
    else:
        lines.append(f"kafka   DOWN {k['error']}")
    if s["ok"]:
        lr = s.get("last_run")
        lines.append(f"s3      ok   {s['location']}: " + (
            f"{s['runs']} runs, last {lr['run_id']} at {lr['finished_at']} rows {lr['rows']}"
            if lr else "no runs yet"))
        if lr and lr.get("retention_lost"):
            lines.append("        last run found records lost to retention: " + ", ".join(
                f"partition {x['partition']} {x['records']}" for x in lr["retention_lost"]))
        if s.get("claim"):
            lines.append(f"        run in progress (claim): {s['claim']}")
        if s.get("uncommitted_runs"):
            lines.append(f"        files of unfinished runs {s['uncommitted_runs']} (removed by the next run)")
    else:
        lines.append(f"s3      DOWN {s['error']}")
    ice = report.get("iceberg")
    if ice is not None and ice["ok"]:
        tables = ", ".join(f"{t} {v['rows']} rows/{v['files']} files" for t, v in ice["tables"].items())
        behind = sum(v["unregistered_runs"] for v in ice["tables"].values())
        lines.append(f"iceberg ok   {ice['catalog']}: {tables or 'no tables yet'}"
                     + (f"; {behind} committed run(s) not registered yet (the next run registers them)"
                        if behind else ""))
    elif ice is not None:
        lines.append(f"iceberg DOWN {ice['catalog']}: {ice['error']}")
    health = ", ".join(f"{k2} {v}" for k2, v in f.items() if k2 not in ("state_path", "feeds"))
    lines.append(f"feeds   {f['feeds']} feeds in {f['state_path']}" + (f": {health}" if health else ""))
    return "\n".join(lines)
