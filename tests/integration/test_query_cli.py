"""`newsbeam query` against the real S3 (SeaweedFS): formats that a script can read back exactly,
and one-line typed errors for S3 problems (connectors/query.py)."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from connectors import run_ledger, s3, tables
from connectors.errors import QueryError, S3AccessDenied, S3BucketMissing, S3Unavailable
from stackutil import OutageProxy, commit_run

ROOT = Path(__file__).resolve().parents[2]

# What broke rows before: tabs, newlines (LF, CRLF, a lone CR), quotes of both kinds, commas,
# backslashes, an empty string, the text "NULL", NULL itself, leading and trailing spaces, and
# characters beyond the BMP and beyond Latin-1.
TRICKY = [
    ("a", 'tab\there and a newline\nthen "double" and \'single\' quotes, a comma, a \\backslash'),
    ("b", ""),
    ("c", "NULL"),
    ("d", None),
    ("e", "  padded  "),
    ("f", "line one\r\nline two\rline three"),
    ("g", "Zürich – «quoted» 😀 中文\u2028separator"),
    ("h", '""'),
]


def _put_quotes(ss: s3.S3Settings) -> None:
    rows = [{"item_id": item, "quote_index": 0, "text": text, "speaker": None if item == "a" else "someone",
             "confidence": 0.5, "is_leadership": item == "c", "fetched_at": "2025-01-28T10:00:00Z"}
            for item, text in TRICKY]
    key = run_ledger.file_key(ss, "quotes", "2025-01-28", "0123456789abcdef", 0)
    pq.write_table(tables.to_arrow("quotes", rows), f"{ss.bucket}/{key}", filesystem=s3.filesystem(ss))
    commit_run(ss, "0123456789abcdef")


def _env(config, **override) -> dict:
    c = config.s3
    env = {**os.environ, "NEWSBEAM_S3__BUCKET": c.bucket, "NEWSBEAM_S3__PREFIX": c.prefix,
           "NEWSBEAM_S3__ENDPOINT_URL": c.endpoint_url, "NEWSBEAM_S3__ACCESS_KEY_ID": c.access_key_id,
           "NEWSBEAM_S3__SECRET_ACCESS_KEY": c.secret_access_key.get_secret_value(),
           "NEWSBEAM_S3__MAX_ATTEMPTS": "1", "NEWSBEAM_S3__CONNECT_TIMEOUT": "2"}
    env.pop("NEWSBEAM_CONFIG", None)
    env.update(override)
    return env


def _query(config, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "query", *args], cwd=ROOT, env=_env(config, **env),
                          capture_output=True, timeout=180)


SQL = "SELECT item_id, text, speaker, confidence, is_leadership, fetched_at FROM quotes ORDER BY item_id"


@pytest.fixture
def quotes(stack_config):
    _put_quotes(s3.S3Settings.from_config(stack_config.s3))
    return stack_config


def test_csv_round_trips_text_and_nulls_exactly(quotes, tmp_path):
    proc = _query(quotes, "--format", "csv", SQL)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode("utf-8")
    expected = [t for _, t in TRICKY]

    # pyarrow: quoted values are never NULL, so "" is the empty string and an unquoted empty field NULL
    import pyarrow.csv as pcsv

    table = pcsv.read_csv(io.BytesIO(proc.stdout), convert_options=pcsv.ConvertOptions(
        strings_can_be_null=True, quoted_strings_can_be_null=False))
    assert table.column("text").to_pylist() == expected
    assert table.column("item_id").to_pylist() == [i for i, _ in TRICKY]
    assert table.column("speaker").to_pylist()[:2] == [None, "someone"]

    # DuckDB reading it back the same way
    (tmp_path / "q.csv").write_bytes(proc.stdout)
    import duckdb

    back = duckdb.connect().execute(f"SELECT text FROM read_csv('{tmp_path / 'q.csv'}', header = true, "
                                    "allow_quoted_nulls = false)").fetchall()
    assert [r[0] for r in back] == expected

    # Python's csv module (it cannot tell NULL from "": both are '' there, everything else exact)
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["text"] for r in rows] == ["" if t is None else t for t in expected]
    assert rows[0]["fetched_at"] == "2025-01-28 10:00:00+00" and rows[0]["is_leadership"] == "false"


def test_json_lines_round_trip_text_and_nulls_exactly(quotes):
    proc = _query(quotes, "--format", "json", SQL)
    assert proc.returncode == 0, proc.stderr.decode()
    # JSON lines end at "\n" only (U+2028 inside a JSON string is valid JSON, not a line end)
    lines = proc.stdout.decode("utf-8").split("\n")
    assert lines.pop() == ""
    rows = [json.loads(line) for line in lines]
    assert len(lines) == len(TRICKY)  # one line per row, whatever the text holds
    assert [r["text"] for r in rows] == [t for _, t in TRICKY]
    assert rows[0] == {"item_id": "a", "text": TRICKY[0][1], "speaker": None, "confidence": 0.5,
                       "is_leadership": False, "fetched_at": "2025-01-28 10:00:00+00"}


def test_json_is_the_default_under_json_logs_and_table_otherwise(quotes):
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--log-format", "json", "query", SQL],
                          cwd=ROOT, env=_env(quotes), capture_output=True, timeout=180)
    assert proc.returncode == 0, proc.stderr.decode()
    assert [json.loads(line)["item_id"] for line in proc.stdout.decode().split("\n")[:-1]] == [i for i, _ in TRICKY]

    proc = _query(quotes, SQL)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode("utf-8").splitlines()
    # header, rule, one line per row (tabs and newlines escaped), the count
    assert len(lines) == len(TRICKY) + 3 and lines[-1] == f"({len(TRICKY)} rows)"
    assert lines[0].split() == ["item_id", "text", "speaker", "confidence", "is_leadership", "fetched_at"]
    row_a = lines[2]
    assert "tab\\there and a newline\\nthen" in row_a and row_a.split()[-5] == "NULL"
    assert "line one\\r\\nline two\\rline three" in lines[7]


def test_parquet_and_other_formats_to_a_file_or_s3(quotes, tmp_path):
    target = tmp_path / "quotes.parquet"
    proc = _query(quotes, "--format", "parquet", "--output", str(target), SQL)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"" and f"wrote {len(TRICKY)} row(s) to {target}" in proc.stderr.decode()
    assert pq.read_table(target).column("text").to_pylist() == [t for _, t in TRICKY]
    assert [p.name for p in tmp_path.iterdir()] == ["quotes.parquet"]  # no temporary file left

    ss = s3.S3Settings.from_config(quotes.s3)
    url = ss.url(ss.key("exports", "quotes.parquet"))
    proc = _query(quotes, "--format", "parquet", "-o", url, SQL)
    assert proc.returncode == 0, proc.stderr.decode()
    data = pq.read_table(f"{ss.bucket}/{ss.key('exports', 'quotes.parquet')}", filesystem=s3.filesystem(ss))
    assert data.column("text").to_pylist() == [t for _, t in TRICKY]

    proc = _query(quotes, "--format", "csv", "--output", str(tmp_path / "q.csv"), "DESCRIBE quotes")
    assert proc.returncode == 0, proc.stderr.decode()
    described = list(csv.DictReader(open(tmp_path / "q.csv", newline="", encoding="utf-8")))
    assert [r["column_name"] for r in described] == tables.QUOTES.names + ["dt"]


def test_parquet_needs_an_output_and_a_missing_folder_is_refused(quotes, tmp_path):
    proc = _query(quotes, "--format", "parquet", SQL)
    assert proc.returncode == 2 and b"needs --output" in proc.stderr
    proc = _query(quotes, "--format", "csv", "--output", str(tmp_path / "nope" / "x.csv"), SQL)
    assert proc.returncode == 2 and b"does not exist" in proc.stderr


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr.decode("utf-8").strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_sql_errors_are_one_line_exit_2(quotes):
    proc = _query(quotes, "SELECT no_such_column FROM quotes")
    assert proc.returncode == QueryError.exit_code == 2
    assert _one_line_error(proc).startswith("newsbeam query: Binder Error:")
    proc = _query(quotes, "SELECT * FROM articles")
    assert proc.returncode == 2 and "(tables with data: quotes)" in _one_line_error(proc)


@pytest.mark.parametrize("override, cls, words", [
    ({"NEWSBEAM_S3__BUCKET": "newsbeam-no-such-bucket"}, S3BucketMissing,
     "newsbeam query: S3 bucket 'newsbeam-no-such-bucket' does not exist at http://"),
    ({"NEWSBEAM_S3__ENDPOINT_URL": "http://127.0.0.1:1"}, S3Unavailable,
     "newsbeam query: S3 unreachable at http://127.0.0.1:1 bucket newsbeam: EndpointConnectionError"),
    ({"NEWSBEAM_S3__SECRET_ACCESS_KEY": "not-the-secret"}, S3AccessDenied,
     "newsbeam query: S3 refused access at http://"),
])
def test_s3_problems_are_one_line_exit_4(quotes, override, cls, words):
    proc = _query(quotes, SQL, **override)
    assert proc.returncode == cls.exit_code == 4
    assert _one_line_error(proc).startswith(words)
    assert proc.stdout == b""


def test_keys_without_the_right_to_list_are_access_denied(quotes):
    """Valid keys of an identity that may only write (deploy/local/seaweedfs.sh)."""
    key, secret = quotes.s3.access_key_id, quotes.s3.secret_access_key.get_secret_value()
    proc = _query(quotes, SQL, NEWSBEAM_S3__ACCESS_KEY_ID=f"{key}-writeonly",
                  NEWSBEAM_S3__SECRET_ACCESS_KEY=f"{secret}-writeonly")
    if b"InvalidAccessKeyId" in proc.stderr:
        pytest.skip("the running stack predates the write-only identity: restart it (stack.sh down, up)")
    assert proc.returncode == 4
    assert "S3 refused access" in (line := _one_line_error(proc)) and "AccessDenied" in line, line


def test_an_outage_while_duckdb_reads_is_s3_unavailable(quotes):
    """The listing works, then the endpoint goes away when DuckDB fetches a data file."""
    from connectors.query import run_query

    proxy = OutageProxy(quotes.s3.endpoint_url)
    try:
        proxy.fail_on_parquet_get = True
        ss = s3.S3Settings.from_config(quotes.s3.model_copy(update={"endpoint_url": proxy.endpoint}))
        with pytest.raises(S3Unavailable) as err:
            run_query(ss, SQL, "csv")
        assert proxy.down and type(err.value) is S3Unavailable
        assert str(err.value).startswith(f"S3 unreachable at {proxy.endpoint} bucket newsbeam: IO Error:")
        assert "\n" not in str(err.value)
    finally:
        proxy.close()


def test_duckdb_http_errors_map_to_the_same_types(quotes):
    """DuckDB's own S3 errors (a file read after the listing) are classified like boto3's."""
    import duckdb

    from connectors import duckdb_s3
    from connectors.query import duckdb_failure

    good = s3.S3Settings.from_config(quotes.s3)
    glob = duckdb_s3.table_glob(good, "quotes")
    for settings, cls in [(good.__class__(**{**vars(good), "secret_access_key": "wrong"}), S3AccessDenied),
                          (good.__class__(**{**vars(good), "bucket": "newsbeam-no-such-bucket"}), S3BucketMissing)]:
        con = duckdb_s3.connect(settings)
        with pytest.raises(duckdb.Error) as raw:
            con.execute(f"SELECT count(*) FROM read_parquet('{glob.replace(good.bucket, settings.bucket, 1)}')")
        mapped = duckdb_failure(raw.value, settings)
        assert type(mapped) is cls and "\n" not in str(mapped), (raw.value, mapped)


def test_real_article_texts_round_trip_through_csv_and_json(stack_config, tmp_path):
    """BBC articles (paragraph breaks, quotes, pound signs, the odd non-UTF-8 byte decoded)
    through Kafka and a run: what `query --format csv|json` prints reads back as the Parquet holds."""
    import pyarrow.csv as pcsv

    from pipeline.run import execute
    from stackutil import feed_item, produce, read_table
    from transforms.dedup_eval import load_bbc

    bbc = ROOT / ".." / "shared" / "data" / "bbc"
    if not bbc.is_dir():
        pytest.skip(f"shared BBC corpus not present at {bbc.resolve()}")
    docs = load_bbc(bbc)[::15]  # 149 articles from every category
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False, "max_records_per_run": None})})
    produce(cfg, [feed_item(f"bbc-{i}", d.body, title=d.title) for i, d in enumerate(docs)])
    assert execute(cfg).status == "written"
    stored = {r["item_id"]: r for r in read_table(cfg, "articles")}
    sql = "SELECT item_id, title, text, summary, updated FROM articles ORDER BY item_id"

    proc = _query(cfg, "--format", "csv", sql)
    assert proc.returncode == 0, proc.stderr.decode()
    back = pcsv.read_csv(io.BytesIO(proc.stdout), convert_options=pcsv.ConvertOptions(
        strings_can_be_null=True, quoted_strings_can_be_null=False, column_types={"updated": "string"})).to_pylist()
    assert len(back) == len(stored) > 100
    assert sum("\n" in r["text"] for r in back) > 100  # multi-paragraph texts, each still one row
    for row in back:
        want = stored[row["item_id"]]
        assert (row["title"], row["text"], row["summary"], row["updated"]) == \
            (want["title"], want["text"], want["summary"], None)

    proc = _query(cfg, "--format", "json", sql)
    assert proc.returncode == 0, proc.stderr.decode()
    for line in proc.stdout.decode("utf-8").split("\n")[:-1]:
        row = json.loads(line)
        want = stored[row["item_id"]]
        assert (row["title"], row["text"], row["summary"], row["updated"]) == \
            (want["title"], want["text"], want["summary"], None)
