"""A PostgreSQL cluster of a test's own, which the test may stop and start at will.

Never the shared server that the other suites use: a fault test that stops PostgreSQL
must not take it away from anything else. The cluster is made with `initdb` in a
temporary folder owned by the `postgres` OS user (the server refuses to run as root),
listens on a free port of 127.0.0.1 only (and on a Unix socket in its own folder), trusts
local connections, and is removed with its folder afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

OS_USER = "postgres"


def server_binaries() -> Path | None:
    """The folder of PostgreSQL's initdb and pg_ctl (the newest installed), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_major_version)
    return Path(found[-1]).parent if found else None


def _major_version(pg_ctl: str) -> int:
    version = Path(pg_ctl).parent.parent.name
    return int(version) if version.isdigit() else 0


def unavailable_reason() -> str | None:
    """Why a private cluster cannot be made here (None when it can)."""
    if server_binaries() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if os.geteuid() != 0:
        return "making a cluster as the postgres OS user needs root"
    if shutil.which("runuser") is None:
        return "runuser is not installed"
    try:
        import pwd

        pwd.getpwnam(OS_USER)
    except KeyError:
        return f"no {OS_USER!r} OS user"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PrivateCluster:
    """A running (or stopped) cluster in `folder`, listening on 127.0.0.1:`port`."""

    folder: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @classmethod
    def create(cls) -> PrivateCluster:
        """initdb a new cluster in a new temporary folder, and start it."""
        binaries = server_binaries()
        assert binaries is not None, unavailable_reason()
        folder = Path(tempfile.mkdtemp(prefix="tl-private-pg-"))
        shutil.chown(folder, user=OS_USER, group=OS_USER)
        cluster = cls(folder, free_port(), binaries)
        try:
            cluster._as_postgres(
                "initdb",
                "-D",
                str(cluster.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "--no-instructions",
                "-E",
                "UTF8",
            )
            cluster.start()
        except BaseException:
            cluster.remove()
            raise
        return cluster

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop the server the way an administrator's restart does (`-m fast`: every
        session is terminated, "terminating connection due to administrator command")."""
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create database `name`; its URL."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def remove(self) -> None:
        """Stop the server if it runs (immediately), and delete the folder."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _command(self, program: str, *args: str) -> list[str]:
        return ["runuser", "-u", OS_USER, "--", str(self.bin / program), *args]

    def _as_postgres(self, program: str, *args: str) -> None:
        started = time.monotonic()
        done = subprocess.run(
            self._command(program, *args),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({done.returncode}) after {time.monotonic() - started:.1f} s:"
                f" {done.stdout}{done.stderr}{log}"
            )
