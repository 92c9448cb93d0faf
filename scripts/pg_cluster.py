"""A throwaway PostgreSQL cluster: own temp dir, unix socket only, removed afterwards.

Used by run_tests.py; on its own it runs one command against a fresh cluster:

    python scripts/pg_cluster.py -- pytest -k overlap
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")


class ClusterError(RuntimeError):
    """The cluster could not be created or started."""


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int
    bindir: Path

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def url(self) -> str:
        # django-environ puts query parameters into OPTIONS, which Django hands to libpq;
        # a socket path in the host part of the URL would not be unquoted.
        return f"postgres://postgres@/postgres?host={quote(str(self.socket_dir))}&port={self.port}"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))


def _has_server(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED_BINARIES)


def find_bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres live; None when this machine has no server."""
    candidates: list[Path] = []
    if override := os.environ.get("PG_BINDIR"):
        candidates.append(Path(override))
    if initdb := shutil.which("initdb"):
        # Resolve: a symlink in /usr/local/bin says nothing about where `postgres` is.
        candidates.append(Path(initdb).resolve().parent)
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    # Debian keeps the server binaries off PATH; prefer the newest major version.
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(debian)
    return next((c for c in candidates if _has_server(c)), None)


def _service_user() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterError("running as root, and there is no 'postgres' or 'nobody' user to run initdb")


def _as_user(user: pwd.struct_passwd | None, argv: Sequence[str | Path]) -> list[str]:
    cmd = [str(a) for a in argv]
    if user is None:
        return cmd
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", user.pw_name, "--", *cmd]
    if setpriv := shutil.which("setpriv"):
        ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        return [setpriv, *ids, "--", *cmd]
    raise ClusterError("running as root, but there is no runuser or setpriv to drop privileges")


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd: the unprivileged user may not be allowed into the caller's directory.
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603


def _free_port() -> int:
    # The server listens on a socket file only, but its name carries the port, and a port
    # nobody uses keeps it clear of a cluster someone starts later on TCP.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _conf_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _kill_postmaster(data: Path) -> None:
    """Last resort when pg_ctl stop failed: the data dir is about to vanish under it."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)


@contextlib.contextmanager
def cluster(bindir: Path, extra_settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Create and start a cluster; stop it and delete every file of it on the way out.

    ``extra_settings`` are added to postgresql.conf (values as written there).
    """
    user = _service_user()
    # /tmp rather than $TMPDIR when dropping privileges: the server user must reach the dir.
    # mkdtemp makes it unique and private, which is what S108 worries about.
    base = "/tmp" if user else None  # noqa: S108
    root = Path(tempfile.mkdtemp(prefix="pgtest-", dir=base))
    data = root / "data"
    log = root / "server.log"
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        port = _free_port()
        initdb = [bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust"]
        # Sorting in C order, as before; letters' case as a production database has it
        # (UTF-8), so that UPPER() folds "é" and the searches' tests mean something.
        initdb += ["--encoding=UTF8", "--locale=C", "--lc-ctype=C.UTF-8", "--no-sync"]
        done = _run(_as_user(user, initdb), cwd=root)
        if done.returncode != 0:
            raise ClusterError(f"initdb failed:\n{done.stdout}{done.stderr}")
        # Durability is worthless for a cluster that is deleted in a minute.
        settings = {
            "listen_addresses": "''",
            "port": str(port),
            "unix_socket_directories": _conf_str(str(root)),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            # The concurrency tests open 200 connections at once (200 racing registrants).
            "max_connections": "260",
            **(extra_settings or {}),
        }
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n# throwaway test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        pg_ctl = [bindir / "pg_ctl", "-D", data, "-l", log]
        started = _run(_as_user(user, [*pg_ctl, "-w", "-t", "60", "start"]), cwd=root)
        try:
            if started.returncode != 0:
                raise ClusterError(f"pg_ctl start failed:\n{started.stdout}{_tail(log)}")
            yield Cluster(root=root, port=port, bindir=bindir)
        finally:
            stopped = _run(_as_user(user, [*pg_ctl, "-w", "-m", "immediate", "stop"]), cwd=root)
            if stopped.returncode != 0:
                _kill_postmaster(data)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def control(db: Cluster, action: str) -> None:
    """``stop`` (fast: clients are cut off) or ``start`` a running cluster, as an outage would."""
    user = _service_user()
    pg_ctl = [db.bindir / "pg_ctl", "-D", db.root / "data", "-l", db.root / "server.log", "-w"]
    argv = [*pg_ctl, "-m", "fast", "stop"] if action == "stop" else [*pg_ctl, "-t", "60", "start"]
    done = _run(_as_user(user, argv), cwd=db.root)
    if done.returncode != 0:
        raise ClusterError(f"pg_ctl {action} failed:\n{done.stdout}{done.stderr}")


def has_extension(db: Cluster, name: str) -> bool | None:
    """Whether the server can CREATE EXTENSION name; None when there is no psql to ask."""
    psql = db.bindir / "psql"
    if not os.access(psql, os.X_OK):
        return None
    literal = "'" + name.replace("'", "''") + "'"
    query = f"SELECT 1 FROM pg_available_extensions WHERE name = {literal}"  # noqa: S608
    argv = [str(psql), "-h", str(db.socket_dir), "-p", str(db.port), "-U", "postgres"]
    argv += ["-d", "postgres", "-XAtc", query]
    out = _run(argv, cwd=db.root)
    return out.returncode == 0 and out.stdout.strip() == "1"


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that a cluster's cleanup still runs."""
    signal.signal(signal.SIGTERM, _terminate)


def main(argv: list[str]) -> int:
    exit_on_sigterm()
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    bindir = find_bindir()
    if bindir is None:
        print("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found", file=sys.stderr)
        return 1
    with cluster(bindir) as db:
        print(f"DATABASE_URL={db.url}", file=sys.stderr)
        env = {**os.environ, "DATABASE_URL": db.url}
        return subprocess.run(argv, env=env, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ClusterError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
