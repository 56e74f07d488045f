"""``newsbeam extract`` and ``newsbeam eval`` subcommands."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from connectors import console
from connectors.errors import InputError
from transforms.nlp import DEFAULT_BATCH_CHARS, DEFAULT_MAX_CHARS, DEFAULT_MODEL

DEFAULT_POLNEAR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "polnear"
DEFINITIONS = ("a", "b")


def add_extract_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = ("Extract quotes (with speakers, leadership flags) and entities. Prints one JSON "
                          "line per document: {\"id\", \"quotes\", \"entities\", \"nlp_truncated\"}; a quote's "
                          "start_char and end_char (also start and end, deprecated) are character offsets into "
                          "the text as given. Input that cannot be read (a missing or non-UTF-8 file, a stdin "
                          "line that is not a JSON object with a string \"text\", an unknown field, a bad date) "
                          "stops everything before the model loads: one line, exit status 2.")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="plain-text files (id = file name); with none, read JSON lines "
                             "{\"id\", \"text\", \"date\"?} from stdin")
    parser.add_argument("--date", help="article date (YYYY-MM-DD) for FILE inputs; default: today")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="spaCy model name (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32, help="documents per nlp.pipe batch")
    parser.add_argument("--batch-chars", type=int, default=DEFAULT_BATCH_CHARS,
                        help="a batch also ends before its texts pass this many characters: spaCy "
                             "holds ~3 KB per character in flight (default: %(default)s)")
    parser.add_argument("--max-chars", type=int, default=None,
                        help="read at most this many characters of one text, cut at a paragraph or "
                             "sentence end; the output then says \"nlp_truncated\": true "
                             f"(default: nlp.max_chars, {DEFAULT_MAX_CHARS})")
    parser.add_argument("--gazetteer", help="extra leaders CSV/YAML (name, aliases, role, country, from, to) "
                                            "used instead of the built-in list")
    _reported_speech_argument(parser)
    return parser


def _reported_speech_argument(parser: argparse.ArgumentParser) -> None:
    from transforms.reported_speech import POLICIES

    parser.add_argument("--reported-speech", choices=POLICIES, default=None,
                        help="which reported speech (no quote marks) to keep: sources = what someone other "
                             "than the writer said; all = every attribution (as PolNeAR annotates); none = "
                             "quotes only (default: the config's nlp.reported_speech, else sources)")


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = ("Score extraction against PolNeAR brat gold: precision/recall/F1 of quote spans "
                          "and speaker accuracy, for direct quotes and all attributions, by two definitions: "
                          "(a) any overlap, content enclosed in quote marks; (b) the anchors' way: half of "
                          "the shorter span shared, content holding a double quote mark, speaker sharing a "
                          "content word with the gold source. Then the share of statements that keep one "
                          "statement_id when outlets rewrite them. See transforms/evaluation.py and "
                          "transforms/identity_eval.py for the exact definitions.")
    parser.add_argument("--data", default=str(DEFAULT_POLNEAR), help="PolNeAR root (default: %(default)s)")
    parser.add_argument("--split", default="dev", choices=("train", "dev"), help="split (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="score only the first N articles")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="spaCy model name (default: %(default)s)")
    parser.add_argument("--definition", choices=DEFINITIONS, action="append",
                        help="score by this definition only (repeatable; default: both a and b)")
    parser.add_argument("--json", action="store_true", help="print scores as JSON instead of a table")
    _reported_speech_argument(parser)
    return parser


def _inputs(args) -> list[tuple[str, str, str | None]]:
    """Every document, read and checked before the model loads: a missing file, undecodable text,
    a line that is not a JSON object with a string "text", or a date that is not YYYY-MM-DD is
    an InputError (one line, exit 2) and nothing is extracted."""
    if args.date is not None:
        _check_date(args.date, "--date")
    if args.files:
        return [(Path(f).name, _read_text(f), args.date) for f in args.files]
    docs = []
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        where = f"stdin line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc.msg} at character {exc.pos + 1}); expected one object "
                             '{"id", "text", "date"?} per line') from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(f'{where}: expected a JSON object with a string "text" (and optional "id", "date")')
        unknown = sorted(set(record) - {"id", "text", "date"})
        if unknown:
            raise InputError(f"{where}: unknown field(s) {', '.join(unknown)} (expected id, text, date)")
        date = record.get("date")
        if date is not None:
            _check_date(date, f"{where}: date")
        docs.append((str(record.get("id", number)), record["text"], date))
    return docs


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a text file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def _check_date(value, what: str) -> None:
    import datetime as dt

    try:
        dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InputError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def run_extract(args) -> int:
    from transforms.extract import extract_documents
    from transforms.leaders import default_gazetteer, load_gazetteer
    from transforms.nlp import load_nlp

    docs = _inputs(args)  # all read and checked before the model loads
    if args.gazetteer:
        try:
            gazetteer = load_gazetteer(args.gazetteer)
        except OSError as exc:
            raise InputError(f"--gazetteer {args.gazetteer}: {exc.strerror or exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"--gazetteer {args.gazetteer}: not a leaders list ({type(exc).__name__}: {exc})") from None
    else:
        gazetteer = default_gazetteer()
    for result in extract_documents(docs, nlp=load_nlp(args.model), batch_size=args.batch_size,
                                    gazetteer=gazetteer, batch_chars=args.batch_chars,
                                    max_chars=args.max_chars or DEFAULT_MAX_CHARS,
                                    reported_speech=args.reported_speech or "sources"):
        console.data(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def run_eval(args) -> int:
    from transforms.evaluation import evaluate_by, format_table, load_split
    from transforms.extract import extract_documents
    from transforms.identity_eval import identity_report
    from transforms.nlp import load_nlp

    root = Path(args.data)
    if not (root / args.split).is_dir():
        raise InputError(f"no PolNeAR split at {root / args.split} (--data names the PolNeAR folder)")
    nlp = load_nlp(args.model)
    golds = load_split(root, args.split)[: args.limit]
    extractions = list(extract_documents(((g.name, g.text, g.date) for g in golds), nlp=nlp,
                                         reported_speech=args.reported_speech or "sources"))
    definitions = args.definition or list(DEFINITIONS)
    scores = {d: evaluate_by(golds, extractions, d) for d in dict.fromkeys(definitions)}
    identity = identity_report(nlp)
    if args.json:
        console.document({"split": args.split, "documents": len(golds),
                          "reported_speech": args.reported_speech or "sources",
                          **{f"definition_{d}": {name: s.as_dict() for name, s in by_set.items()}
                             for d, by_set in scores.items()},
                          "statement_identity": identity.as_dict()})
        return 0
    console.result(f"PolNeAR {args.split}: {len(golds)} articles (reported speech: {args.reported_speech or 'sources'})",
                   articles=len(golds), reported_speech=args.reported_speech or "sources")
    for d, by_set in scores.items():
        console.result(f"\ndefinition ({d})")
        for line in format_table(by_set).splitlines():
            console.result(line)
    console.result(f"\n{identity.format()}")
    return 0


def main_extract(argv: list[str] | None = None) -> int:
    return run_extract(add_extract_arguments(argparse.ArgumentParser(prog="newsbeam extract")).parse_args(argv))


def main_eval(argv: list[str] | None = None) -> int:
    return run_eval(add_eval_arguments(argparse.ArgumentParser(prog="newsbeam eval")).parse_args(argv))


if __name__ == "__main__":
    sys.exit(main_extract())
