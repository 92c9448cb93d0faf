"""`make test`: the whole suite on SQLite and again on a throwaway PostgreSQL cluster.

Arguments are passed to both pytest runs. Environment:
  REQUIRE_POSTGRES=1  no PostgreSQL server binaries is an error, not a skip
  REQUIRE_BROWSER=1   no Chromium is an error, not a skip
  REQUIRE_REDIS=1     no redis-server is an error, not a skip

The PostgreSQL run is the production-like one: it also gets a throwaway redis-server
(REDIS_URL), so the cache and the rate limits live in Redis there and in the database on
the SQLite run; tests marked ``redis`` run only where REDIS_URL is set.
  CHROMIUM_PATH       the browser the Playwright tests drive (default /usr/bin/chromium)
  PG_BINDIR           where initdb and pg_ctl are, when they are nowhere usual
  TEST_SERIAL=1       run SQLite, then PostgreSQL (by default they run side by side, the
                      SQLite run's output shown when both have ended)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pg_cluster
import redis_server

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
PYTEST_EXIT = {
    1: "tests failed",
    2: "interrupted",
    3: "pytest internal error",
    4: "pytest usage error",
    5: "no tests ran",
}


@dataclass
class Outcome:
    status: str  # passed | failed | SKIPPED
    reason: str = ""
    counts: tuple[int, int, int] | None = None  # passed, failed (incl. errors), skipped
    no_tests: bool = False

    def line(self) -> str:
        parts = [self.reason] if self.reason else []
        if self.counts is not None:
            parts.append("{} passed, {} failed, {} skipped".format(*self.counts))
        return self.status + (f" ({'; '.join(parts)})" if parts else "")


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def banner(*lines: str) -> None:
    bar = "!" * 78
    body = "\n".join(f"!!  {line}" for line in lines)
    print(f"\n{bar}\n{body}\n{bar}\n", file=sys.stderr, flush=True)


def without_marker(args: list[str], marker: str) -> list[str]:
    """Add `not marker` to the -m expression, keeping one the caller gave."""
    out: list[str] = []
    given = False
    i = 0
    while i < len(args):
        arg = args[i]
        expr = None
        if arg == "-m" and i + 1 < len(args):
            expr, i = args[i + 1], i + 2
        elif arg.startswith("-m") and len(arg) > 2:
            expr, i = arg[2:], i + 1
        else:
            out.append(arg)
            i += 1
            continue
        given = True
        out += ["-m", f"({expr}) and not {marker}"]
    return out if given else ["-m", f"not {marker}", *out]


def read_counts(report: Path) -> tuple[int, int, int] | None:
    try:
        # Our own pytest just wrote this file.
        suites = ET.parse(report).getroot().iter("testsuite")  # noqa: S314
    except (OSError, ET.ParseError):
        return None
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


@dataclass
class Running:
    name: str
    proc: subprocess.Popen
    report: Path
    log: Path | None = None


def start_pytest(
    name: str, args: list[str], env: dict[str, str], workdir: Path, *, quiet: bool = False
) -> Running:
    """Start one pytest run; with ``quiet`` its output goes to a file, shown when it ends."""
    report = workdir / f"{name.lower()}.xml"
    # Ours first, so a --junitxml in ARGS wins (the counts are then just not shown).
    # The slowest tests are listed at the end, so a run that grows says where.
    cmd = [sys.executable, "-m", "pytest", f"--junitxml={report}", "--durations=15", *args]
    print(f"\n===== {name}: {' '.join(cmd[1:])}", flush=True)
    if not quiet:
        return Running(name, subprocess.Popen(cmd, cwd=ROOT, env=env), report)  # noqa: S603
    log = workdir / f"{name.lower()}.log"
    print(f"===== {name} runs beside the next run; its output follows when both end", flush=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    return Running(name, proc, report, log)


def stop_pytest(run: Running, exc: BaseException) -> None:
    # Ctrl-C reaches pytest too: let it report and drop its test database before the
    # cluster goes. Anything else (SIGTERM) is ours alone to pass on.
    if not isinstance(exc, KeyboardInterrupt) or run.log is not None:
        run.proc.terminate()
    try:
        run.proc.wait(timeout=30)
    except BaseException:
        run.proc.kill()


def finish_pytest(run: Running) -> Outcome:
    try:
        code = run.proc.wait()
    except BaseException as exc:
        stop_pytest(run, exc)
        raise
    if run.log is not None:
        print(f"\n===== {run.name}: its output", flush=True)
        sys.stdout.write(run.log.read_text(errors="replace"))
        sys.stdout.flush()
    counts = read_counts(run.report)
    if code == 0:
        return Outcome("passed", counts=counts)
    return Outcome(
        "failed", PYTEST_EXIT.get(code, f"pytest exit {code}"), counts=counts, no_tests=code == 5
    )


def run_pytest(name: str, args: list[str], env: dict[str, str], workdir: Path) -> Outcome:
    return finish_pytest(start_pytest(name, args, env, workdir))


def run_postgres(
    bindir: Path, redis_binary: str | None, args: list[str], env: dict[str, str], workdir: Path
) -> Outcome:
    try:
        with pg_cluster.cluster(bindir) as db, contextlib.ExitStack() as stack:
            print(f"\n===== PostgreSQL cluster from {bindir}: {db.url}", flush=True)
            if pg_cluster.has_extension(db, "btree_gist") is False:
                # The migrations need it for the room-overlap exclusion constraint.
                return Outcome("failed", "btree_gist extension not available (PostgreSQL contrib)")
            run_env = {**env, "DATABASE_URL": db.url}
            if redis_binary is not None:
                run_env["REDIS_URL"] = stack.enter_context(redis_server.server(redis_binary))
                print(f"===== redis-server {redis_binary}: {run_env['REDIS_URL']}", flush=True)
            return run_pytest("PostgreSQL", args, run_env, workdir)
    except pg_cluster.ClusterError as exc:
        print(exc, file=sys.stderr)
        return Outcome("failed", f"could not start the cluster: {str(exc).splitlines()[0]}")
    except redis_server.RedisError as exc:
        print(exc, file=sys.stderr)
        return Outcome("failed", f"could not start redis-server: {str(exc).splitlines()[0]}")


def main(argv: list[str]) -> int:
    pg_cluster.exit_on_sigterm()
    args = list(argv)
    narrowed = bool(args)

    env = dict(os.environ)
    # pyproject names the test settings; a shell's local settings or database must not win.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    # Playwright's sync API keeps an event loop in the test thread; Django would refuse ORM calls.
    env["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    chromium = os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    if os.access(chromium, os.X_OK):
        env["CHROMIUM_PATH"] = chromium
        browser = Outcome("enabled", chromium)
    else:
        missing = f"Chromium not found at {chromium}"
        if flag("REQUIRE_BROWSER"):
            banner(f"{missing}, and REQUIRE_BROWSER=1.", "Install it: apt-get install chromium")
            return 2
        banner(
            f"{missing}: browser tests are SKIPPED (-m 'not browser').",
            "Install it (apt-get install chromium) or set CHROMIUM_PATH.",
        )
        args = without_marker(args, "browser")
        browser = Outcome("SKIPPED", missing)

    bindir = pg_cluster.find_bindir()
    if bindir is None:
        missing = "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found"
        hint = "Install them (apt-get install postgresql-15) or set PG_BINDIR."
        if flag("REQUIRE_POSTGRES"):
            banner(f"{missing}, and REQUIRE_POSTGRES=1.", hint)
            return 2
        banner(f"{missing}: the PostgreSQL run is SKIPPED.", hint)

    redis_binary = redis_server.find_binary()
    if redis_binary is None:
        missing = "no redis-server found"
        hint = "Install it (apt-get install redis-server) or set REDIS_SERVER."
        if flag("REQUIRE_REDIS"):
            banner(f"{missing}, and REQUIRE_REDIS=1.", hint)
            return 2
        banner(
            f"{missing}: the Redis tests are SKIPPED (cache and rate limits in the database).", hint
        )
        redis = Outcome("SKIPPED", missing)
    else:
        redis = Outcome("enabled", f"{redis_binary}, on the PostgreSQL run")
    if bindir is None and redis_binary is not None:
        redis = Outcome("SKIPPED", "Redis runs beside PostgreSQL, which is missing")

    with tempfile.TemporaryDirectory(prefix="run-tests-") as tmp:
        workdir = Path(tmp)
        results: dict[str, Outcome] = {}
        if bindir is None:
            results["SQLite"] = run_pytest("SQLite", args, env, workdir)
            results["PostgreSQL"] = Outcome("SKIPPED", "no PostgreSQL server binaries found")
        elif flag("TEST_SERIAL"):
            results["SQLite"] = run_pytest("SQLite", args, env, workdir)
            results["PostgreSQL"] = run_postgres(bindir, redis_binary, args, env, workdir)
        else:
            # The two runs share nothing (a database file of its own against a cluster of
            # its own, free ports each), so they run side by side: about half the wall time.
            sqlite = start_pytest("SQLite", args, env, workdir, quiet=True)
            try:
                results["PostgreSQL"] = run_postgres(bindir, redis_binary, args, env, workdir)
            except BaseException as exc:
                stop_pytest(sqlite, exc)
                raise
            results = {"SQLite": finish_pytest(sqlite), **results}

    ran = [r for r in results.values() if r.counts and sum(r.counts)]
    if narrowed and ran:
        # With -k or a path, one database may select nothing (e.g. only postgres tests).
        for r in results.values():
            if r.no_tests:
                r.status, r.reason = "passed", "nothing selected on this database"
    green = all(r.status != "failed" for r in results.values())

    skipped = [f"{n}: SKIPPED ({r.reason})" for n, r in results.items() if r.status == "SKIPPED"]
    if browser.status == "SKIPPED":
        skipped.append(f"Browser tests: SKIPPED ({browser.reason})")
    if redis.status == "SKIPPED":
        skipped.append(f"Redis tests: SKIPPED ({redis.reason})")
    if skipped:
        banner(*skipped)
    print("\n" + "=" * 30 + " test summary " + "=" * 30)
    for name, outcome in results.items():
        print(f"{name + ':':<15} {outcome.line()}")
    print(f"{'Browser tests:':<15} {browser.line()}")
    print(f"{'Redis tests:':<15} {redis.line()}")
    if any(r.counts for r in results.values()):
        totals = [sum(r.counts[i] for r in results.values() if r.counts) for i in range(3)]
        print("total: {} passed, {} failed, {} skipped".format(*totals))
    return 0 if green else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
