"""Apache Kafka's own command-line tools (kafka-tools jars from Maven Central), e.g. the console consumer.

The broker classpath (`hotline_devstack.kafka`) does not contain them: in Kafka 4.x they live in the
separate `org.apache.kafka:kafka-tools` artifact, which is not published for every release (4.4.0 has
none). The tools are plain Kafka clients, so a slightly older tools release talks to a newer broker.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hotline_devstack.kafka import find_java
from hotline_devstack.maven import resolve_maven_classpath
from hotline_devstack.paths import kafka_pom
from hotline_devstack.procs import DevstackError

# Newest kafka-tools on Maven Central at the time of writing (there is no 4.4.0 kafka-tools).
KAFKA_TOOLS_VERSION = "4.3.1"
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"

# What DefaultMessageFormatter prints for a record without headers.
NO_HEADERS = "NO_HEADERS"


def kafka_tools_version() -> str:
    return os.environ.get("HOTLINE_KAFKA_TOOLS_VERSION") or KAFKA_TOOLS_VERSION


def kafka_tools_pom() -> Path:
    return kafka_pom().with_name("tools-pom.xml")


def kafka_tools_libs_dir(cache: Path, version: str | None = None) -> Path:
    return cache / "kafka-tools" / (version or kafka_tools_version()) / "libs"


def ensure_kafka_tools_jars(cache: Path, version: str | None = None) -> Path:
    """Resolve the kafka-tools classpath into <cache>/kafka-tools/<ver>/libs via Maven (cached; returns libs)."""
    version = version or kafka_tools_version()
    return resolve_maven_classpath(
        cache,
        pom=kafka_tools_pom(),
        libs=kafka_tools_libs_dir(cache, version),
        properties={"kafka.tools.version": version},
        expect_glob="kafka-tools-*.jar",
        what=f"Apache Kafka tools {version}",
    )


def tool_argv(libs: Path, main_class: str, *args: str, heap_max: str = "256m", log_level: str = "warn") -> list[str]:
    """`java ... <main_class> <args>` on the tools classpath; tool logging (slf4j-simple) goes to stderr."""
    return [
        find_java(),
        f"-Xmx{heap_max}",
        "-Djava.awt.headless=true",
        f"-Dorg.slf4j.simpleLogger.defaultLogLevel={log_level}",
        "-cp",
        f"{libs}/*",  # the JVM expands the wildcard itself
        main_class,
        *args,
    ]


def console_consume(
    cache: Path,
    bootstrap: str,
    topic: str,
    *,
    max_messages: int,
    timeout_ms: int = 20000,
    from_beginning: bool = True,
    version: str | None = None,
) -> list[str]:
    """Read up to `max_messages` records of `topic` with Kafka's ConsoleConsumer; returns its stdout lines.

    Each line is `<headers>\\t<key>\\t<value>` (DefaultMessageFormatter with print.headers and print.key):
    headers as `name:value` joined by `,` (or `NO_HEADERS`), key and value as raw bytes decoded as UTF-8.
    `parse_console_line` splits one. The consumer stops after `max_messages` records, or when no record
    came for `timeout_ms` (it still exits 0 then, with fewer lines).
    """
    libs = ensure_kafka_tools_jars(cache, version)
    args = [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        *(["--from-beginning"] if from_beginning else []),
        "--max-messages",
        str(max_messages),
        "--timeout-ms",
        str(timeout_ms),
        # Kafka 4.x name; the old `--property` still works but is deprecated.
        "--formatter-property",
        "print.headers=true",
        "--formatter-property",
        "print.key=true",
    ]
    argv = tool_argv(libs, CONSOLE_CONSUMER, *args)
    # The JVM's start and the group join come on top of the idle timeout.
    deadline = timeout_ms / 1000 + 60
    try:
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=deadline)
    except subprocess.TimeoutExpired as exc:
        raise DevstackError(f"console consumer of {topic} still running after {deadline:.0f}s") from exc
    # The formatter writes the record bytes as they are: decode them as the UTF-8 they were produced in,
    # whatever the JVM's default charset.
    stderr = res.stderr.decode("utf-8", "replace")
    if res.returncode != 0:
        raise DevstackError(f"console consumer of {topic} failed (exit {res.returncode}):\n{stderr}")
    # Only "\n" ends a record (the formatter's line.separator): str.splitlines() would also split inside
    # values at U+2028, U+0085 and the like, which JSON may carry unescaped.
    out = res.stdout.decode("utf-8", "replace")
    return out.removesuffix("\n").split("\n") if out else []


# A `,` starts a new header only where a header name and `:` follow, so commas inside values survive.
_HEADER_SPLIT = re.compile(r",(?=[A-Za-z0-9_.\-]+:)")


@dataclass(frozen=True)
class ConsoleRecord:
    headers: dict[str, str]
    key: str
    value: str


def parse_console_line(line: str) -> ConsoleRecord:
    """Split one `console_consume` line into headers, key and value.

    Header values are printed unescaped, so a value that itself contains `,name:` would be split; the
    key and the value cannot contain the tab separator as long as they are UUIDs and compact JSON.
    """
    parts = line.split("\t", 2)
    if len(parts) != 3:
        raise ValueError(f"not a headers<TAB>key<TAB>value line: {line!r}")
    raw_headers, key, value = parts
    headers: dict[str, str] = {}
    if raw_headers != NO_HEADERS:
        for item in _HEADER_SPLIT.split(raw_headers):
            name, sep, val = item.partition(":")
            if not sep:
                raise ValueError(f"header without ':' in {raw_headers!r}")
            headers[name] = val
    return ConsoleRecord(headers, key, value)
