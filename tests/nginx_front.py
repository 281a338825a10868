"""A real nginx (deploy/nginx.conf through deploy/start-nginx.sh) and clients from chosen addresses.

nginx routes by client address (`hash $remote_addr consistent`), so the tests
bind each client to its own loopback address (127.0.N.1) to spread them over
the processes, and read nginx's access log to see which process got which.
"""

import os
import re
import socket
import subprocess
import tempfile
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from tests.support import ROOT, ApiUser, free_port, wait_until

UPSTREAM_LINE = re.compile(r"^(?P<client>\S+) .* upstream=(?P<upstream>[^ ,]+)")


class NginxFront:
    """nginx on 127.0.0.1 and a free port, in front of the given app addresses."""

    def __init__(self, upstreams: list[str], max_body: int = 1048576):
        self.upstreams = upstreams
        self.port = free_port()
        # nginx's workers run as nobody: their temp directories must be reachable.
        self.run_dir = Path(tempfile.mkdtemp(prefix="watchparty-nginx-"))
        self.run_dir.chmod(0o755)
        self.access_log = self.run_dir / "access.log"
        self.error_log = self.run_dir / "error.log"
        self.max_body = max_body
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "NginxFront":
        env = {
            **os.environ,
            "NGINX_UPSTREAMS": " ".join(self.upstreams),
            "NGINX_LISTEN": f"127.0.0.1:{self.port}",
            "NGINX_RUN_DIR": str(self.run_dir),
            "NGINX_ACCESS_LOG": str(self.access_log),
            "NGINX_ERROR_LOG": str(self.error_log),
            "NGINX_WORKERS": "1",
            "WATCHPARTY_MAX_CONTENT_LENGTH": str(self.max_body),
        }
        self.process = subprocess.Popen(["bash", str(ROOT / "deploy" / "start-nginx.sh")], env=env)
        wait_until(self._answers, message=f"nginx on port {self.port}")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"nginx exited: {self.error_log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def upstream_of(self, client_ip: str) -> str | None:
        """The app process that served this client address's last request, from the access log."""
        found = None
        for line in self.access_log.read_text().splitlines():
            match = UPSTREAM_LINE.match(line)
            if match and match["client"] == client_ip:
                found = match["upstream"]
        return found

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class SourceAddressAdapter(HTTPAdapter):
    """A requests adapter whose connections leave from one local address."""

    def __init__(self, source_ip: str, **kwargs):
        self.source_ip = source_ip
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source_ip: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(source_ip))
    return session


class WebSocketFrom:
    """websocket-client options whose `socket` is a new connection from source_ip each time.

    python-engineio copies these options into every WebSocket it opens
    (reconnections included), reading them through keys() and [].
    """

    def __init__(self, source_ip: str, target: tuple[str, int]):
        self.source_ip, self.target = source_ip, target

    def keys(self):
        return ["socket"]

    def __getitem__(self, key):
        return socket.create_connection(self.target, timeout=10, source_address=(self.source_ip, 0))

    def pop(self, key, default=None):
        return default


def user_from(source_ip: str, base_url: str) -> ApiUser:
    """An ApiUser whose requests come from source_ip."""
    user = ApiUser(base_url)
    user.http = session_from(source_ip)
    return user
