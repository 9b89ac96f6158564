"""Resolve a jar classpath from Maven Central with `mvn dependency:copy-dependencies` (cached)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from hotline_devstack.paths import ensure_dir
from hotline_devstack.procs import DevstackError, run_checked, which


def resolve_maven_classpath(
    cache: Path,
    *,
    pom: Path,
    libs: Path,
    properties: Mapping[str, str],
    expect_glob: str,
    what: str,
) -> Path:
    """Copy the runtime dependencies of `pom` into `libs` (returned); a `.complete` marker makes it a no-op.

    `properties` become `-Dkey=value` (e.g. the version the pom resolves), `expect_glob` must match a jar
    in the result, `what` names the classpath in messages (e.g. "Kafka 4.4.0"). Downloads are cached in
    <cache>/m2.
    """
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = which("mvn", f"Install Maven (`apt-get install maven`); it resolves the {what} jars from Maven Central.")
    if not pom.exists():
        raise DevstackError(f"missing {pom}")
    ensure_dir(libs.parent)
    # Copy into a scratch dir and rename: an interrupted fetch never looks complete.
    tmp = libs.with_name(f"{libs.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    argv = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        *(f"-D{key}={value}" for key, value in properties.items()),
        f"-Dmaven.repo.local={cache / 'm2'}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
        "-DincludeScope=runtime",
    ]
    print(f"[devstack] resolving {what} jars from Maven Central ...", flush=True)
    t0 = time.monotonic()
    run_checked(argv, f"maven resolution of {what}")
    if not any(tmp.glob(expect_glob)):
        raise DevstackError(f"maven finished but no {expect_glob} in {tmp}")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    marker.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
    jars = list(libs.glob("*.jar"))
    size_mb = sum(j.stat().st_size for j in jars) / 1e6
    print(
        f"[devstack] {what}: {len(jars)} jars ({size_mb:.0f} MB) in {time.monotonic() - t0:.1f}s -> {libs}",
        flush=True,
    )
    return libs
