"""What the benchmark reads besides latency: cache keys in Redis (to force a dashboard miss),
CPU per request of the app and database processes, and py-spy profiles."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from scripts.bench.environment import CACHE_PREFIX, ROOT
from scripts.bench.server import Server


class RedisKeys:
    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)

    def dashboard_key(self, user_id: int) -> str:
        """The learner's cached dashboard, found in Redis after a request filled it: django-redis
        stores ``<KEY_PREFIX>:<version>:<key>`` and analytics names the key
        ``dashboard:<layout version>:<user id>`` (apps/analytics/caching.py)."""
        found = sorted(self.redis.scan_iter(match=f"{CACHE_PREFIX}:*:dashboard:*:{user_id}"))
        if len(found) != 1:
            raise SystemExit(
                f"expected one cached dashboard for user {user_id} in Redis, found {found!r}: "
                "the cache key layout changed (apps/analytics/caching.py); update RedisKeys"
            )
        key = found[0]
        return key.decode() if isinstance(key, bytes) else str(key)

    def delete(self, key: str) -> None:
        self.redis.delete(key)

    def deleter(self, key: str) -> Callable[[int], None]:
        return lambda _: self.delete(key)

    def flush(self) -> None:
        self.redis.flushdb()


class CpuMeter:
    """CPU seconds used by the gunicorn worker(s) and by the PostgreSQL backends serving the
    bench database (Linux /proc). Unlike latency, CPU per request barely moves when other
    processes compete for the cores, so it shows what the code itself costs.

    A thread polls every 50 ms and accumulates each process's increase, so little is lost when
    a backend ends (Django reconnects every ``CONN_MAX_AGE`` seconds)."""

    def __init__(self, server: Server | None, database: str, interval: float = 0.05):
        self.server = server
        self.database = database
        self.interval = interval
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.enabled = server is not None and Path("/proc/self/stat").exists()
        self.seen: dict[tuple[str, int], float] = {}
        self.processes: list[tuple[str, int]] = []
        self.workers: list[int] = []
        self.totals = {"worker": 0.0, "db": 0.0}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        if self.enabled:
            self._poll()
            threading.Thread(target=self._run, daemon=True).start()

    def _cpu(self, pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def _backends(self) -> list[int]:
        pids = []
        needle = f" {self.database} ".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes()
                if cmdline.startswith(b"postgres: ") and needle in cmdline:
                    pids.append(int(entry.name))
        return pids

    def _poll(self, rescan: bool = True) -> None:
        assert self.server is not None
        if rescan or not self.processes:
            # Listing processes costs a millisecond or two of the load generator's time; it is
            # done once a second, the known processes are read every interval.
            if not self.workers:
                self.workers = self.server.worker_pids
            self.processes = [("worker", pid) for pid in self.workers]
            self.processes += [("db", pid) for pid in self._backends()]
        processes = self.processes
        with self.lock:
            for kind, pid in processes:
                cpu = self._cpu(pid)
                if cpu is None:
                    continue
                previous = self.seen.get((kind, pid))
                # A process counts from when it is first seen (at most one interval late).
                self.totals[kind] += cpu - previous if previous is not None else 0.0
                self.seen[(kind, pid)] = cpu

    def _run(self) -> None:
        polls = 0
        while not self.stopped.wait(self.interval):
            polls += 1
            self._poll(rescan=polls % 20 == 0)

    def sample(self) -> dict[str, float]:
        if not self.enabled:
            return {}
        self._poll(rescan=False)
        with self.lock:
            return dict(self.totals)

    def stop(self) -> None:
        self.stopped.set()

    @staticmethod
    def used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {key: after[key] - before.get(key, 0.0) for key in after}

    @staticmethod
    def per_request(used: dict[str, float], requests: int) -> dict[str, float]:
        if not used or requests <= 0:
            return {}
        return {f"{key}_cpu_ms_per_req": round(v * 1000 / requests, 3) for key, v in used.items()}


class Profiler:
    """``--profile``: py-spy samples every gunicorn worker while each figure is measured and
    writes collapsed stacks (``<figure>-worker<n>.txt``, for flamegraph tools or grep)."""

    def __init__(self, server: Server | None, directory: Path):
        self.server = server
        self.directory = directory
        self.py_spy = str(ROOT / ".venv" / "bin" / "py-spy")

    @contextlib.contextmanager
    def figure(self, name: str) -> Iterator[None]:
        if self.server is None or not self.server.worker_pids:
            yield
            return
        slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
        spies = []
        for index, pid in enumerate(self.server.worker_pids):  # every worker, a file each
            out = self.directory / f"{slug}-worker{index + 1}.txt"
            command = [
                self.py_spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(out),
            ]
            spies.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        time.sleep(0.5)
        try:
            yield
        finally:
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                try:
                    spy.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    spy.kill()
