"""A throwaway redis-server: own temp dir, unix socket only, nothing saved, removed afterwards.

Used by run_tests.py; on its own it runs one command with REDIS_URL pointing at it:

    python scripts/redis_server.py -- pytest -m redis
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class RedisError(RuntimeError):
    """The server could not be started."""


def find_binary() -> str | None:
    return os.environ.get("REDIS_SERVER") or shutil.which("redis-server")


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(str(path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def server(binary: str) -> Iterator[str]:
    """Start redis-server; yield its ``unix://`` URL; stop it and delete its files."""
    root = Path(tempfile.mkdtemp(prefix="redistest-"))
    sock = root / "redis.sock"
    argv = [
        binary,
        "--port", "0",  # no TCP at all
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(root),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--logfile", str(root / "redis.log"),
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        deadline = time.monotonic() + 15
        while not _answers(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (
                    (root / "redis.log").read_text(errors="replace")
                    if (root / "redis.log").exists()
                    else ""
                )
                raise RedisError(f"redis-server did not start:\n{log[-2000:]}")
            time.sleep(0.05)
        yield f"unix://{sock}?db=0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    binary = find_binary()
    if binary is None:
        print("no redis-server found", file=sys.stderr)
        return 1
    with server(binary) as url:
        print(f"REDIS_URL={url}", file=sys.stderr)
        return subprocess.run(argv, env={**os.environ, "REDIS_URL": url}, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RedisError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
