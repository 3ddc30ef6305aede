"""The server under test: gunicorn on the benchmark settings, started, reloaded and stopped."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.bench.client import Client
from scripts.bench.environment import API, GUNICORN, ROOT, cpu_count


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def worker_pids(self) -> list[int]:
        try:
            out = subprocess.run(
                ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
            ).stdout
        except FileNotFoundError:
            return []
        return [int(pid) for pid in out.split()]

    def reload(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, *, env: dict[str, str], log_path: Path) -> Server:
    port = args.port or free_port()
    command = [
        GUNICORN,
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--timeout",
        "60",
        "--graceful-timeout",
        "20",
        "--backlog",
        "2048",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    pinned = cpu_count() >= 2 and shutil.which("taskset") is not None and not args.no_pin
    if pinned:
        command = ["taskset", "-c", str(args.server_cpu), *command]
    handle = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)
    server = Server(process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}); see {log_path}")
        with contextlib.suppress(OSError):
            status, _ = Client(port).request("GET", f"{API}/health/live")
            if status == 200:
                return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn did not become live; see {log_path}")


@contextlib.contextmanager
def running_server(args: argparse.Namespace, env: dict[str, str]) -> Iterator[Server]:
    server = start_server(args, env=env, log_path=args.log_dir / "gunicorn.log")
    try:
        yield server
    finally:
        server.stop()
