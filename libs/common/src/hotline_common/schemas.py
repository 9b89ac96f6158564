"""JSON Schemas of the topics' event bodies, exported from the event models for non-Python consumers.

`python -m hotline_common.schemas` writes one `<topic>.schema.json` per topic of the catalogue into
`libs/common/schemas/` (committed); `--check` only compares and exits 1 when the files are stale, so CI
catches a model change that was not followed by a re-export.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hotline_common.topics import CATALOGUE, TopicSpec

# The dialect pydantic's generator targets.
DIALECT = "https://json-schema.org/draft/2020-12/schema"
# `$id` prefix: a URN, so the ids are absolute without claiming a web address that serves them.
ID_PREFIX = "urn:th.go.msdhs.hotline:schema:"
SUFFIX = ".schema.json"
# libs/common/schemas, beside the package's src/ directory.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "schemas"


def filename(spec: TopicSpec) -> str:
    return f"{spec.name}{SUFFIX}"


def schema_for(spec: TopicSpec) -> dict[str, Any]:
    """The JSON Schema of the record value on `spec`'s topic (the model as it is serialized)."""
    body = spec.model.model_json_schema(mode="serialization")
    doc: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"{ID_PREFIX}{spec.name}",
        "title": f"{spec.model.__name__} ({spec.name})",
    }
    doc.update({k: v for k, v in body.items() if k != "title"})
    doc["x-topic"] = spec.name
    doc["x-ce-type"] = spec.model.ce_type
    doc["x-compacted"] = spec.compacted
    return doc


def render(spec: TopicSpec) -> str:
    # ensure_ascii=False: Thai descriptions stay readable in review; files are written as UTF-8.
    return json.dumps(schema_for(spec), indent=2, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    """Write every topic's schema into `directory` and drop schema files of topics no longer catalogued."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for spec in CATALOGUE:
        path = directory / filename(spec)
        path.write_text(render(spec), encoding="utf-8")
        written.append(path)
    wanted = {p.name for p in written}
    for stale in directory.glob(f"*{SUFFIX}"):
        if stale.name not in wanted:
            stale.unlink()
    return written


def check(directory: Path) -> list[str]:
    """What differs between `directory` and a fresh export (empty when current)."""
    problems: list[str] = []
    wanted = set()
    for spec in CATALOGUE:
        path = directory / filename(spec)
        wanted.add(path.name)
        if not path.exists():
            problems.append(f"missing {path}")
        elif path.read_text(encoding="utf-8") != render(spec):
            problems.append(f"stale {path}")
    if directory.is_dir():
        problems += [f"not in the catalogue: {p}" for p in sorted(directory.glob(f"*{SUFFIX}")) if p.name not in wanted]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline_common.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the exported files are not current")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"output directory (default: {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("re-export with: uv run python -m hotline_common.schemas", file=sys.stderr)
            return 1
        print(f"{len(CATALOGUE)} schemas current in {args.dir}")
        return 0
    for path in export(args.dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
