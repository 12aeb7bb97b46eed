"""A private PostgreSQL cluster in a directory of its own (initdb/pg_ctl), that a test or the
chaos run may restart or stop at will without touching the shared server at 127.0.0.1:5432.

PostgreSQL refuses to run as root; as root, the cluster runs as the `postgres` system user, who
owns the directory."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SERVER_USER = "postgres"
START_TIMEOUT_S = 60


class PostgresMissing(RuntimeError):
    """No initdb/pg_ctl on this machine (install the system's `postgresql` package)."""


def binaries_dir() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, then the newest Debian install."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    installed = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3])
    )
    if installed:
        return Path(installed[-1]).parent
    raise PostgresMissing("initdb/pg_ctl not found; install the system `postgresql` package")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """Made by `create` (initdb in a new temporary directory); `start`, `restart`, `stop`,
    `destroy` (which removes the directory)."""

    def __init__(self, root: Path, port: int, bin_dir: Path):
        self.root, self.port, self.bin_dir = root, port, bin_dir
        self.data = root / "data"
        self.log = root / "postgres.log"
        self._as_user = pwd.getpwnam(SERVER_USER) if os.geteuid() == 0 else None
        self._options = self._server_options()

    @classmethod
    def create(cls, port: int | None = None) -> PgCluster:
        # Its own directory directly under the system's temporary directory: the server user must
        # reach it, and a test's tmp_path (mode 0700, root's) is out of its reach.
        root = Path(tempfile.mkdtemp(prefix="settle-pg-"))
        cluster = cls(root, port or _free_port(), binaries_dir())
        if cluster._as_user:
            os.chown(root, cluster._as_user.pw_uid, cluster._as_user.pw_gid)
        cluster._run(
            "initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        return cluster

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database of the cluster, as the services take it."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, config_file: Path | None = None) -> None:
        """With `config_file`, the server reads its settings from a copy of that file (the server
        user must reach it), only the port and the loopback address given here on top."""
        options = self._server_options()
        if config_file is not None:
            copy = self.root / "postgresql.conf"
            shutil.copyfile(config_file, copy)
            if self._as_user:
                os.chown(copy, self._as_user.pw_uid, self._as_user.pw_gid)
            options = f"-p {self.port} -c config_file={copy} {self._loopback_only()}"
        self._options = options  # a restart keeps them
        self._ctl("start", "-l", str(self.log), "-o", options)

    def restart(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as clients see it: every connection cut, then crash recovery."""
        self._ctl("restart", "-m", mode, "-l", str(self.log), "-o", self._options)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _server_options(self) -> str:
        # Loopback only, no Unix socket; fsync off: a crash of PostgreSQL itself (what the tests
        # cause) loses nothing without it, only a crash of the machine would.
        return f"-p {self.port} {self._loopback_only()} -c fsync=off -c max_connections=300"

    @staticmethod
    def _loopback_only() -> str:
        return "-c listen_addresses=127.0.0.1 -c unix_socket_directories=''"

    def _ctl(self, action: str, *args: str) -> None:
        self._run("pg_ctl", action, "-D", str(self.data), "-w", "-t", str(START_TIMEOUT_S), *args)

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        user = self._as_user
        done = subprocess.run(
            [str(self.bin_dir / program), *args],
            capture_output=True,
            text=True,
            cwd=self.root,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
        if check and done.returncode != 0:
            failure = f"{program} {args[0]} failed: {done.stderr.strip()}"
            raise RuntimeError(f"{failure}\n{self._log_tail()}")
        return done

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-10:])
        except OSError:
            return ""
