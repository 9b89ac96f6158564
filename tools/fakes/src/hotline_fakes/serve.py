"""Serve a fake's ASGI app in-process: uvicorn in a background thread on 127.0.0.1 and a free port.

`with serve(fake.app) as base_url:` works from sync and async code alike: the server has its own thread and event
loop, so an async test's loop is never blocked by it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT = 10.0


@contextmanager
def serve(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Yields the base URL (`http://127.0.0.1:<port>`) once the server accepts connections; stops it after."""
    # Binding the socket here (not in uvicorn) makes port 0 race-free: the port is ours before the thread starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"fake-{bound_port}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:  # uvicorn has no start event to wait on
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"the fake on {host}:{bound_port} did not start")
        time.sleep(0.005)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
