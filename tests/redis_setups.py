"""Real Redis deployments for tests: a Sentinel-watched primary and replica, a TLS-only server."""

import shutil
import subprocess
from pathlib import Path

from tests.support import RedisServer, free_port, wait_until

SERVICE = "mymaster"


class ReplicaServer(RedisServer):
    """A redis-server that replicates the given primary."""

    def __init__(self, workdir: Path, primary: RedisServer):
        super().__init__(workdir)
        self.primary = primary

    def extra_args(self) -> list[str]:
        return ["--replicaof", "127.0.0.1", str(self.primary.port)]


class SentinelSet:
    """A primary, a replica and three sentinels (quorum 2) watching them, on 127.0.0.1."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.primary = RedisServer(self._dir("primary"))
        self.replica = ReplicaServer(self._dir("replica"), self.primary)
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[subprocess.Popen] = []

    def _dir(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/0/{SERVICE}"

    def start(self) -> "SentinelSet":
        """Start every part, or stop the parts already running and raise: a failed start leaks nothing."""
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_parts(self) -> None:
        self.primary.start()
        self.replica.start()
        binary = shutil.which("redis-sentinel")
        if binary is None:
            raise RuntimeError("redis-sentinel is not installed (README's test command installs it)")
        for port in self.sentinel_ports:
            config = self._dir(f"sentinel-{port}") / "sentinel.conf"
            config.write_text(self._sentinel_config(port))
            self.sentinels.append(
                subprocess.Popen([binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        wait_until(self._watching, timeout=30, message=self._not_watching)

    def _not_watching(self) -> str:
        """Why the sentinels are not ready: which exited, and the end of each one's log."""
        lines = ["three sentinels that see the replica and each other"]
        for port, process in zip(self.sentinel_ports, self.sentinels, strict=False):
            log = self._dir(f"sentinel-{port}") / "sentinel.log"
            tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
            state = "running" if process.poll() is None else f"exited with {process.returncode}"
            lines.append(f"sentinel on {port}: {state}; log: {' | '.join(tail)}")
        return "\n".join(lines)

    def _sentinel_config(self, port: int) -> str:
        return "\n".join(
            [
                f"port {port}",
                "bind 127.0.0.1",
                f"logfile {self._dir(f'sentinel-{port}') / 'sentinel.log'}",
                f"dir {self.workdir}",
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2",
                f"sentinel down-after-milliseconds {SERVICE} 1000",
                f"sentinel failover-timeout {SERVICE} 5000",
                f"sentinel parallel-syncs {SERVICE} 1",
                "",
            ]
        )

    def _ask(self, port: int, method: str):
        """Call a redis-py sentinel_* method on one sentinel, for our service."""
        import redis

        client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
        try:
            return getattr(client, method)(SERVICE)
        finally:
            client.close()

    def _watching(self) -> bool:
        import redis

        try:
            states = [self._ask(port, "sentinel_master") for port in self.sentinel_ports]
            replica_synced = self.replica.client().info("replication").get("master_link_status") == "up"
        except redis.RedisError:
            return False
        return replica_synced and all(
            int(state["num-slaves"]) == 1 and int(state["num-other-sentinels"]) == 2 for state in states
        )

    def primary_port(self) -> int | None:
        """The primary's port as a majority of the sentinels report it."""
        import redis

        ports = []
        for port in self.sentinel_ports:
            try:
                ports.append(int(self._ask(port, "sentinel_get_master_addr_by_name")[1]))
            except (redis.RedisError, TypeError):
                continue
        for candidate in set(ports):
            if ports.count(candidate) >= 2:
                return candidate
        return None

    def stop(self) -> None:
        for process in self.sentinels:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
        self.sentinels.clear()
        self.replica.stop()
        self.primary.stop()


class TlsRedisServer(RedisServer):
    """A redis-server that only speaks TLS, with a throwaway self-signed certificate (openssl)."""

    def __init__(self, workdir: Path):
        super().__init__(workdir)
        self.cert, self.key = workdir / "redis.crt", workdir / "redis.key"

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.cert}"

    def start(self) -> "TlsRedisServer":
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(self.key), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        return super().start()

    def extra_args(self) -> list[str]:
        return ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.cert),
                "--tls-key-file", str(self.key), "--tls-ca-cert-file", str(self.cert),
                "--tls-auth-clients", "no"]  # fmt: skip

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True)

    def answers(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False
