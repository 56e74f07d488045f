"""Generate the Athena DDL of docs/schema.md from the table schemas (connectors/tables.py): the
CREATE EXTERNAL TABLE of every table, and for tables with renamed columns (tables.RENAMED) the
statements that upgrade a table created before the rename.

    python docs/gen_athena_ddl.py           # print the statements
    python docs/gen_athena_ddl.py --write   # replace them in docs/schema.md

tests/unit/test_tables.py fails when the document is out of date.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.tables import SCHEMAS, athena_ddl, athena_upgrade_sql  # noqa: E402

DOC = ROOT / "docs" / "schema.md"
START, END = "<!-- athena-ddl:start -->", "<!-- athena-ddl:end -->"
UPGRADE_START, UPGRADE_END = "<!-- athena-upgrade:start -->", "<!-- athena-upgrade:end -->"


def generate() -> str:
    return "```sql\n" + "\n\n".join(athena_ddl(t) for t in SCHEMAS) + "\n```"


def generate_upgrade() -> str:
    return "```sql\n" + "\n\n".join(sql for t in SCHEMAS if (sql := athena_upgrade_sql(t))) + "\n```"


def _between(doc_text: str, start: str, end: str, generated: str) -> str:
    head, _, rest = doc_text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{generated}\n{end}{tail}"


def replace_in(doc_text: str, generated: str, upgrade: str | None = None) -> str:
    text = _between(doc_text, START, END, generated)
    return _between(text, UPGRADE_START, UPGRADE_END, generate_upgrade() if upgrade is None else upgrade)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)} in place")
    args = parser.parse_args()
    if args.write:
        DOC.write_text(replace_in(DOC.read_text(encoding="utf-8"), generate()), encoding="utf-8")
    else:
        sys.stdout.write(generate() + "\n\n" + generate_upgrade() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
