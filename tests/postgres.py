"""A throwaway PostgreSQL cluster for the test session, and databases in it."""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port, wait_until

# Durability is worthless for a cluster deleted at the end of the session.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "listen_addresses": "127.0.0.1",
}


def postgres_bin_dir() -> Path:
    """Debian's newest installed PostgreSQL server binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (README's test command installs it)")
    return Path(found[-1]).parent


def cluster_user() -> str | None:
    """The user that runs the cluster: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL")


class PostgresCluster:
    """initdb + postgres on 127.0.0.1 and a free port, as a non-root user, deleted on stop."""

    def __init__(self):
        self.bin_dir = postgres_bin_dir()
        self.user = cluster_user()
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="watchparty-pg-"))
        self.data_dir = self.workdir / "data"
        self.process: subprocess.Popen | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://watchparty@127.0.0.1:{self.port}/postgres"

    def start(self) -> "PostgresCluster":
        if self.user:
            shutil.chown(self.workdir, user=self.user)
        self._run("initdb", "-D", str(self.data_dir), "-U", "watchparty", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        options = [arg for name, value in FAST_SETTINGS.items() for arg in ("-c", f"{name}={value}")]
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                   "-k", str(self.workdir), *options]  # fmt: skip
        log = open(self.workdir / "postgres.log", "ab")  # noqa: SIM115 - the server keeps it
        self.process = subprocess.Popen(command, user=self.user, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(self.answers, timeout=30, message=f"PostgreSQL on port {self.port}")
        return self

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([str(self.bin_dir / program), *args], user=self.user, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip

    def answers(self) -> bool:
        import psycopg

        if self.process.poll() is not None:
            raise AssertionError((self.workdir / "postgres.log").read_text(errors="replace"))
        try:
            with psycopg.connect(self.dsn("postgres"), connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def dsn(self, database: str) -> str:
        return f"postgresql://watchparty@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then delete the cluster."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """Create a throwaway database and drop it afterwards (its connections included)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"watchparty_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(admin_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
