"""A throwaway PostgreSQL cluster for the test session, from Debian's ``postgresql`` package.

The server refuses to run as root, so when the tests run as root the cluster's files belong
to the ``postgres`` system user and ``initdb`` / ``pg_ctl`` run as that user; as any other
user they run as that user. The server listens only on 127.0.0.1 on a free port, keeps its
unix socket inside the cluster's temporary directory, trusts every local connection, and
runs with fsync off: it is thrown away at the end of the session.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL's server binaries are missing: "
    "apt-get install -y --no-install-recommends postgresql  (or run `make sysdeps`)"
)
SERVER_USER = "postgres"
SUPERUSER = "postgres"


class PgUnavailable(RuntimeError):
    """PostgreSQL is not installed on this machine."""


class PgStartError(RuntimeError):
    """PostgreSQL is installed but the throwaway cluster could not be started."""


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` holding initdb and pg_ctl (or $PG_BINDIR)."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))

    def version_key(path: str) -> tuple[int, ...]:
        ver = Path(path).parent.parent.name
        return tuple(int(part) for part in re.findall(r"\d+", ver)) or (0,)

    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    candidates += [Path(p).parent for p in sorted(found, key=version_key, reverse=True)]
    for on_path in (shutil.which("initdb"), shutil.which("pg_ctl")):
        if on_path:  # e.g. a non-Debian install with the server binaries on PATH
            candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_server_user() -> str:
    """As root: the unprivileged user that owns and runs the cluster (created if missing)."""
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        # apt's postgresql-common creates it; a hand-made install may not have.
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        proc = subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/bin/sh",
                SERVER_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise PgStartError(
                f"no {SERVER_USER!r} user to run PostgreSQL as (the server refuses root) and "
                f"useradd failed: {proc.stderr.strip()}"
            ) from None
    return SERVER_USER


def _clean_env() -> dict[str, str]:
    # PGHOST, PGPORT, PGDATA, ... of the caller must not steer the throwaway cluster.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


@dataclass
class PgCluster:
    """A running throwaway cluster; ``stop()`` ends it and removes its files."""

    bindir: Path
    base: Path
    port: int
    run_as: str | None  # None: the current user
    host: str = "127.0.0.1"
    _stopped: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def sockdir(self) -> Path:
        return self.base / "sock"

    @property
    def logfile(self) -> Path:
        return self.base / "server.log"

    def url(self, dbname: str = "postgres", driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        if self.run_as is None:
            cmd = args
        elif shutil.which("runuser"):
            cmd = ["runuser", "-u", self.run_as, "--", *args]
        else:
            cmd = ["su", self.run_as, "-s", "/bin/sh", "-c", shlex.join(args)]
        return subprocess.run(
            cmd,
            cwd=self.base,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _connect(self, dbname: str = "postgres"):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, name: str) -> str:
        """Create database ``name`` (dropping an old one) and return its SQLAlchemy URL."""
        _check_identifier(name)
        with self._connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        _check_identifier(name)
        with self._connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept) and delete its files."""
        if self._stopped:
            return
        self._stopped = True
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.datadir),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "30",
                        "stop",
                    ],
                    timeout=60,
                )
        shutil.rmtree(self.base, ignore_errors=True)


def _check_identifier(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")


def _make_base(run_as: str | None) -> Path:
    # As root the directory must be reachable by the server user: /tmp is, a root-only
    # $TMPDIR (say under /root) is not.
    parent = "/tmp" if run_as is not None and os.path.isdir("/tmp") else None
    base = Path(tempfile.mkdtemp(prefix="callqa-pg-", dir=parent))
    (base / "sock").mkdir()
    if run_as is not None:
        pw = pwd.getpwnam(run_as)
        for path in (base, base / "sock"):
            os.chown(path, pw.pw_uid, pw.pw_gid)
    return base


def start_cluster(
    dbname: str | None = "callqa_test", *, attempts: int = 3
) -> tuple[PgCluster, str]:
    """Start a throwaway cluster and create ``dbname``; returns the cluster and that DB's URL.

    Raises PgUnavailable when PostgreSQL is not installed, PgStartError when it would not start.
    """
    bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable(INSTALL_HINT)
    run_as = _ensure_server_user() if os.geteuid() == 0 else None
    base = _make_base(run_as)
    cluster = PgCluster(bindir=bindir, base=base, port=0, run_as=run_as)
    atexit.register(cluster.stop)  # also after an interrupted session
    try:
        init = cluster._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.datadir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
        )
        if init.returncode != 0 and "--no-instructions" in init.stderr:  # PostgreSQL < 12
            shutil.rmtree(cluster.datadir, ignore_errors=True)
            init = cluster._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(cluster.datadir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
        if init.returncode != 0:
            raise PgStartError(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        last_error = ""
        for _ in range(attempts):  # a free port can be taken between probing and binding
            cluster.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {cluster.sockdir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=100 -c shared_buffers=32MB"
            )
            started = time.monotonic()
            proc = cluster._run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(cluster.datadir),
                    "-l",
                    str(cluster.logfile),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                timeout=90,
            )
            if proc.returncode == 0:
                break
            last_error = (
                f"pg_ctl start failed ({proc.returncode}) after "
                f"{time.monotonic() - started:.1f}s:\n{proc.stdout}\n{proc.stderr}\n"
                f"server log:\n{cluster.log_tail()}"
            )
        else:
            raise PgStartError(last_error)
        url = cluster.create_database(dbname) if dbname else cluster.url()
    except BaseException:
        cluster.stop()
        raise
    return cluster, url


def unique_dbname(prefix: str = "callqa_t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
