"""Repository-root / cache-directory discovery and directory helpers."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def repo_root() -> Path:
    """The directory containing tools/devstack: searched upward from this file, then from cwd."""
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "tools" / "devstack").is_dir():
                return candidate
    # Installed outside the repo and run from elsewhere: cwd is the best guess.
    return Path.cwd().resolve()


def cache_dir() -> Path:
    """$HOTLINE_CACHE_DIR or <repo root>/.cache (created, and traversable by the postgres user)."""
    env = os.environ.get("HOTLINE_CACHE_DIR")
    path = Path(env).expanduser().resolve() if env else repo_root() / ".cache"
    return ensure_dir(path)


def ensure_dir(path: Path) -> Path:
    """mkdir -p, and add o+x so an unprivileged user (postgres) can traverse into sub-dirs."""
    path.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode
    if os.geteuid() == 0 and not mode & stat.S_IXOTH:
        # initdb/postgres run as the `postgres` OS user when we are root; they need to
        # walk through every parent of their data dir.
        path.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)
    return path


def kafka_pom() -> Path:
    return repo_root() / "deploy" / "kafka" / "pom.xml"


def postgres_init_sql() -> Path:
    return repo_root() / "deploy" / "postgres" / "init.sql"
