"""``retailhub serve`` as a child process, for the HTTP benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / ".venv" / "bin" / "retailhub"


class BenchError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``retailhub serve`` on ``port`` (default: a free one), its output in a log file under
    ``work`` and its data in ``work/data``. ``api_only``: without the job workers and the file
    servers, and ``processes`` > 1 runs that many API processes on the port. Settings come
    from ``env`` and ``database_url`` alone (None: the embedded SQLite), never from the
    caller's own ``RETAILHUB_*`` variables."""

    def __init__(
        self,
        work: Path,
        database_url: str | None,
        *,
        processes: int = 1,
        env: dict[str, str] | None = None,
        port: int | None = None,
        api_only: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.data_dir = work / "data"
        self.log_path = work / "server.log"
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = ["serve", "--port", str(self.port)]
        if api_only:
            self.args += ["--no-workers", "--no-file-servers", "--processes", str(processes)]
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("RETAILHUB_")}
        self._env["RETAILHUB_DATA_DIR"] = str(self.data_dir)
        if database_url:
            self._env["RETAILHUB_DATABASE_URL"] = database_url
        self._env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 90) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise BenchError(f"port {self.port} is already in use")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(SERVER), *self.args],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.log_path.parent,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"no answer on /healthz after {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)

    def credentials(self) -> dict[str, str]:
        creds: dict[str, str] = orjson.loads((self.data_dir / "demo-credentials.json").read_bytes())
        return creds

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def problems(self) -> list[str]:
        if not self.log_path.exists():
            return []
        marks = (" ERROR ", " WARNING ", " CRITICAL ", "Traceback")
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if any(m in line for m in marks)]
