"""Child-process plumbing: process groups, log files, readiness polling, teardown."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


class DevstackError(RuntimeError):
    """A dev-stack component could not be fetched, started or stopped."""


def which(name: str, hint: str = "") -> str:
    found = shutil.which(name)
    if not found:
        raise DevstackError(f"`{name}` not found on PATH. {hint}".strip())
    return found


def tail(path: Path | None, lines: int = 40, start: int = 0) -> str:
    """Last `lines` lines of a log file (only what was written after byte `start`)."""
    if path is None or not path.exists():
        return "<no log>"
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read()
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def listening(port: int) -> bool:
    """Does a socket listen on TCP `port` (any address)? Read from /proc, without connecting: a connect to a port in
    the ephemeral range that nothing listens on yet can pick that very port as its source and connect to itself,
    which then holds the port the service is about to bind. True where /proc/net/tcp is missing (not Linux)."""
    found = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                return True
    return not found


def require_free_port(port: int, what: str, host: str = "127.0.0.1") -> None:
    # A leftover process from a crashed run would otherwise make us "ready" instantly
    # while talking to the wrong (stale) server.
    if port_open(port, host):
        raise DevstackError(
            f"{what}: {host}:{port} is already in use (leftover process from an earlier run?). "
            f"Find it with `ss -ltnp 'sport = :{port}'`."
        )


def _parent_death_preexec(sig: int) -> Callable[[], None]:
    def _set() -> None:
        # Linux only: the kernel sends `sig` to the child when our (spawning) thread dies,
        # so even a SIGKILLed hotline-dev does not leave a broker/postgres behind.
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        except Exception:
            pass

    return _set


class ManagedProcess:
    """One child in its own process group (session), output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_file: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        parent_death_signal: int | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self.parent_death_signal = parent_death_signal
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_offset = 0  # log size at start(): readiness checks only look at new output

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        if self.is_running():
            raise DevstackError(f"{self.name} is already running (pid {self.pid})")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.log_offset = log.tell()
            log.write(f"\n===== {time.strftime('%F %T')} starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                user=self.user,
                group=self.user,
                extra_groups=[] if self.user else None,
                # Own session/process group: terminal Ctrl-C does not hit it directly
                # (we stop it in order), and killpg() reaches every grandchild.
                start_new_session=True,
                preexec_fn=_parent_death_preexec(self.parent_death_signal) if self.parent_death_signal else None,
            )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, timeout: float = 15.0) -> int | None:
        """Graceful stop signal to the group, wait, then SIGKILL the group. Idempotent."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal_group(self.stop_signal)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.proc.wait(10)
        # Leader gone; make sure no straggler in its group survives (e.g. pg backends).
        self.signal_group(signal.SIGKILL)
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the whole group immediately (crash simulation)."""
        if self.proc is None:
            return
        self.signal_group(signal.SIGKILL)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    # -- readiness ---------------------------------------------------------------
    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_file, lines, self.log_offset)

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
        """Poll `check` until true; raise with the log tail if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise DevstackError(
                    f"{self.name} exited with code {self.proc.returncode} before {what}; "
                    f"log {self.log_file}:\n{self.log_tail()}"
                )
            if check():
                return
            if time.monotonic() > deadline:
                raise DevstackError(
                    f"{self.name}: timed out after {timeout:.0f}s waiting for {what}; "
                    f"log {self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(interval)

    def log_contains(self, needle: str) -> bool:
        try:
            with self.log_file.open("rb") as fh:
                fh.seek(self.log_offset)
                return needle.encode() in fh.read()
        except FileNotFoundError:
            return False


class ProcessHandle:
    """A component that runs as (at most) one ManagedProcess, kept in `_proc` once started."""

    stop_timeout: float = 15.0  # seconds between the graceful stop signal and SIGKILL

    def __init__(self) -> None:
        self._proc: ManagedProcess | None = None

    def stop(self, timeout: float | None = None) -> None:
        """Graceful stop signal to the process group, SIGKILL after `timeout` (default `stop_timeout`)."""
        if self._proc is not None:
            self._proc.stop(self.stop_timeout if timeout is None else timeout)

    def kill(self) -> None:
        """SIGKILL the whole group immediately (crash simulation)."""
        if self._proc is not None:
            self._proc.kill()

    def request_stop(self) -> None:
        """Send the graceful stop signal without waiting (to stop several at once; then `stop` each)."""
        if self._proc is not None and self._proc.is_running():
            self._proc.signal_group(self._proc.stop_signal)

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.is_running()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None


def run_checked(
    argv: Sequence[str], what: str, *, user: str | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Run a short helper command; raise DevstackError with its output on failure."""
    res = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        **kw,
    )
    if res.returncode != 0:
        raise DevstackError(f"{what} failed (exit {res.returncode}): {' '.join(argv)}\n{res.stdout}{res.stderr}")
    return res
