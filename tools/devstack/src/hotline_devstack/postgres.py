"""Native PostgreSQL cluster: locate/install binaries, initdb, start/stop, apply init.sql."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from hotline_devstack.paths import ensure_dir, postgres_init_sql
from hotline_devstack.procs import DevstackError, ManagedProcess, ProcessHandle, require_free_port, run_checked

DATABASE = "hotline"
PG_OS_USER = "postgres"


def _candidate_bins() -> list[Path]:
    found: list[Path] = []
    if env := os.environ.get("HOTLINE_PG_BIN"):
        found.append(Path(env))
    # Debian/Ubuntu layout; newest major first.
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0],
        reverse=True,
    )
    found.extend(debian)
    if initdb := shutil.which("initdb"):  # Homebrew, Fedora, Nix, ...
        found.append(Path(initdb).parent)
    return [p for p in found if (p / "initdb").exists() and (p / "postgres").exists()]


def _apt_install_postgres() -> None:
    apt = shutil.which("apt-get")
    if not apt:
        raise DevstackError(
            "PostgreSQL server binaries not found and apt-get is unavailable; "
            "install PostgreSQL >= 15 (or set HOTLINE_PG_BIN)."
        )
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if not sudo:
            raise DevstackError("PostgreSQL not found; run `apt-get install postgresql` as root (no sudo available).")
        prefix = [sudo, "-n"]
    else:
        # Stop Debian's postinst from creating+starting a system "main" cluster on 5432,
        # which would collide with ours. Only if the admin has not configured it already.
        conf = Path("/etc/postgresql-common/createcluster.conf")
        if not conf.exists():
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text(
                "# written by hotline-devstack: no system cluster, we run our own\ncreate_main_cluster = false\n"
            )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("[devstack] PostgreSQL not found; installing it with apt-get ...", flush=True)
    run_checked([*prefix, apt, "update"], "apt-get update", env=env)
    run_checked(
        [
            *prefix,
            apt,
            "install",
            "-y",
            "--no-install-recommends",
            "-o",
            "Dpkg::Options::=--force-confdef",
            "-o",
            "Dpkg::Options::=--force-confold",
            "postgresql",
        ],
        "apt-get install postgresql",
        env=env,
    )


def find_pg_bin(install: bool = True) -> Path:
    """Directory with initdb/postgres/psql (newest version); apt-installs PostgreSQL if missing."""
    bins = _candidate_bins()
    if not bins and install:
        _apt_install_postgres()
        bins = _candidate_bins()
    if not bins:
        raise DevstackError(
            "PostgreSQL server binaries (initdb, postgres) not found; install PostgreSQL or set HOTLINE_PG_BIN."
        )
    return bins[0]


def _run_as_user() -> str | None:
    """initdb/postgres refuse to run as root: then run them as the `postgres` OS user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise DevstackError(
            f"running as root but there is no `{PG_OS_USER}` OS user for initdb/postgres; "
            f"create one: useradd --system --no-create-home {PG_OS_USER}"
        ) from None
    return PG_OS_USER


class PostgresCluster(ProcessHandle):
    """One PostgreSQL cluster (trust auth, 127.0.0.1 only) with database `hotline` initialised.

    `stop(timeout)` sends SIGINT ("fast" shutdown), SIGKILL after `timeout` (default 30 s).
    """

    stop_timeout = 30.0

    def __init__(
        self,
        cache: Path,
        port: int = 5432,
        data_dir: Path | None = None,
        log_file: Path | None = None,
        *,
        pg_bin: Path | None = None,
        parent_death_signal: int | None = None,
    ) -> None:
        super().__init__()
        self.cache = Path(cache)
        self.port = port
        self.data_dir = Path(data_dir) if data_dir else self.cache / "run" / "postgres" / "data"
        self.log_file = Path(log_file) if log_file else self.data_dir.parent / "postgres.log"
        self._pg_bin = pg_bin
        self.parent_death_signal = parent_death_signal
        self._user: str | bool | None = False  # resolved lazily: constructing must not fail

    # -- helpers -----------------------------------------------------------------
    @property
    def user(self) -> str | None:
        """OS user that runs initdb/postgres (None = ourselves)."""
        if self._user is False:
            self._user = _run_as_user()
        return self._user  # type: ignore[return-value]

    def _check_traversable(self) -> None:
        if not self.user:
            return
        pw = pwd.getpwnam(self.user)
        for parent in self.data_dir.resolve().parents:
            st = parent.stat()
            if st.st_uid != pw.pw_uid and not st.st_mode & 0o001:
                raise DevstackError(
                    f"{parent} is not traversable by the `{self.user}` OS user that runs PostgreSQL "
                    f"(chmod o+x it, or point HOTLINE_CACHE_DIR somewhere else)"
                )

    @property
    def pg_bin(self) -> Path:
        if self._pg_bin is None:
            self._pg_bin = find_pg_bin()
        return self._pg_bin

    def _tool(self, name: str) -> str:
        return str(self.pg_bin / name)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def dsn(self, role: str) -> str:
        return f"postgresql://{role}:{role}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def socket_dir(self) -> Path:
        d = self.data_dir / "sock"
        # sun_path is ~107 bytes; deep cache paths would make postgres fail to bind.
        if len(str(d / f".s.PGSQL.{self.port}.lock")) > 100:
            d = Path(tempfile.gettempdir()) / f"hotline-pg-{self.port}"
        return d

    def _chown(self, path: Path) -> None:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def initdb(self) -> None:
        if self.is_initialized():
            return
        ensure_dir(self.data_dir.parent)
        self._check_traversable()
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._chown(self.data_dir)
        base = [self._tool("initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        try:
            run_checked([*base, "--locale=C.UTF-8"], "initdb", user=self.user, cwd="/")
        except DevstackError:
            # Minimal images may lack the C.UTF-8 locale: fall back to no locale (still UTF8).
            for child in self.data_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            run_checked([*base, "--no-locale"], "initdb", user=self.user, cwd="/")

    def _connect_args(self, db: str) -> list[str]:
        """libpq client options (psql, pg_isready): superuser `postgres` on our port, database `db`."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db]

    def _psql(self, db: str, *args: str) -> subprocess.CompletedProcess[str]:
        return run_checked(
            [self._tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *self._connect_args(db), *args],
            f"psql ({db})",
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )

    def psql(self, sql: str, db: str = DATABASE) -> str:
        """Run SQL as superuser, return unaligned tuples-only output."""
        return self._psql(db, "-tA", "-c", sql).stdout

    def ensure_database(self) -> None:
        # CREATE DATABASE cannot run inside a DO block/transaction, so test first from here.
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", db="postgres").strip() != "1":
            self._psql("postgres", "-c", f"CREATE DATABASE {DATABASE}")
        init_sql = postgres_init_sql()
        if not init_sql.exists():
            raise DevstackError(f"missing {init_sql}")
        self._psql(DATABASE, "-f", str(init_sql))

    def _ready(self) -> bool:
        res = subprocess.run(
            [self._tool("pg_isready"), "-q", *self._connect_args("postgres")],
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
        return res.returncode == 0

    # -- lifecycle ---------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        if self.is_running():
            return
        require_free_port(self.port, "PostgreSQL")
        self.initdb()
        sock = self.socket_dir
        sock.mkdir(mode=0o700, exist_ok=True)
        self._chown(sock)
        argv = [
            self._tool("postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-k",
            str(sock),
            "-c",
            "fsync=on",
        ]
        self._proc = ManagedProcess(
            "postgres",
            argv,
            self.log_file,
            user=self.user,
            cwd=Path("/"),
            parent_death_signal=self.parent_death_signal,
            # SIGINT == "fast" shutdown (what `pg_ctl stop -m fast` sends); SIGTERM would be
            # "smart" and wait for every client (e.g. a stuck service) to disconnect.
            stop_signal=signal.SIGINT,
        )
        self._proc.start()
        try:
            self._proc.wait_until(self._ready, timeout, f"connections on 127.0.0.1:{self.port}")
            self.ensure_database()
        except BaseException:
            self._proc.kill()
            raise

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
