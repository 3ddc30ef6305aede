"""``make bench``: serve the app as in production and measure its hot endpoints against controls.

    .venv/bin/python scripts/bench/run.py data [--tier S|M] [--seed 42]   # (re)build the data
    .venv/bin/python scripts/bench/run.py run  [--requests 2000] [...]    # measure

``run`` builds tier S first when the bench database holds no bench dataset. It starts gunicorn
(production settings, one sync worker pinned to CPU 1, the controls enabled) on the bench
database and a Redis database of its own, pins itself to CPU 0, logs in as the probe users and
measures one endpoint at a time over one connection, then a mixed load over several
connections at stepped rates. It prints a table (figure, ratio to the control, goal, PASS/FAIL)
and writes the same as JSON to ``bench/results/<timestamp>.json``. See docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from apps.bench.constants import (  # noqa: E402
    BENCH_EMAIL_DOMAIN,
    BENCH_EXAM_TEMPLATE,
    BENCH_PASSWORD,
    PROBE_ANSWERS,
    probe_email,
    user_email,
)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
RESULTS = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/openmrcs_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
CACHE_PREFIX = "bench"
API = "/api/v1"

# Goals of issue 8 (figures in milliseconds; ratios to a control's P50).
GOAL_HIT_VS_CACHED = 2.0
GOAL_MISS_VS_BARE = 25.0
GOAL_MISS_P50_MS = 10.0
GOAL_MISS_P95_MS = 30.0
GOAL_FLAT = 1.25
GOAL_ANSWER_VS_BARE = 15.0
GOAL_ANSWER_P50_MS = 10.0
GOAL_SUBMIT_P50_MS = 50.0
GOAL_SUBMIT_P95_MS = 150.0
GOAL_MIXED_RPS = 150.0
GOAL_MIXED_DASHBOARD_P95_MS = 100.0
KNEE_P95_MS = 600.0


def log(message: str) -> None:
    print(message, flush=True)


# --- Environment, database, server ---------------------------------------------------------------


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DJANGO_SECRET_KEY": "bench-" + secrets.token_hex(32),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": CACHE_PREFIX,
            "ENVIRONMENT": "bench",
            # One run makes thousands of requests per user and logs in a few times from one IP.
            # DRF's throttle keeps every request time of the window in the cache and rewrites the
            # list on each request; a one-second window keeps that list about as short as a real
            # user's, so the throttle costs what it costs in production.
            "THROTTLE_USER": "1000000/s",
            "THROTTLE_ANON": "1000000/s",
            "THROTTLE_LOGIN": "1000/min",
            "JWT_ACCESS_MINUTES": "180",
        }
    )
    return env


def manage(args: argparse.Namespace, *command: str) -> None:
    subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=server_env(args), check=True)


def psql_params(database_url: str, *, dbname: str | None = None) -> dict[str, Any]:
    url = urlparse(database_url)
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or None,
        "dbname": dbname or url.path.lstrip("/"),
        "autocommit": True,
    }


def ensure_database(database_url: str) -> None:
    import psycopg

    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(**psql_params(database_url, dbname="postgres")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def dataset_shape(database_url: str) -> dict[str, int]:
    """How many bench users and answer facts the bench database holds (0 if none)."""
    import psycopg

    try:
        with psycopg.connect(**psql_params(database_url)) as conn:
            users = conn.execute(
                "SELECT count(*) FROM accounts_user WHERE email LIKE %s",
                [f"%@{BENCH_EMAIL_DOMAIN}"],
            ).fetchone()
            facts = conn.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = 'analytics_answerfact'"
            ).fetchone()
    except psycopg.Error:
        return {"users": 0, "facts": 0}
    return {"users": int(users[0]) if users else 0, "facts": int(facts[0]) if facts else 0}


# Tables that earlier runs rewrote (answers, submits, sessions): vacuumed before each run.
VACUUMED_TABLES = (
    "questions_question",
    "questions_answeroption",
    "practice_practicesession",
    "practice_practiceattempt",
    "practice_reviewcard",
    "exams_examsession",
    "exams_examanswer",
    "analytics_learnerstate",
    "analytics_dailyactivity",
    "analytics_categoryprogress",
)


def vacuum(database_url: str) -> dict[str, Any]:
    """``VACUUM (ANALYZE)`` of the tables the benchmark writes, so that every run starts from
    the state autovacuum keeps a production database in, whatever earlier runs left (a server
    with autovacuum off, as some development machines run, would otherwise slow down run after
    run from dead rows: 180 question rows rewritten by every exam submit). Returns the server's
    autovacuum setting for the record."""
    import psycopg

    with psycopg.connect(**psql_params(database_url)) as conn:
        (autovacuum,) = conn.execute("SHOW autovacuum").fetchone() or ("unknown",)
        for table in VACUUMED_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")  # names from the list above
    return {"autovacuum": autovacuum, "vacuumed": list(VACUUMED_TABLES)}


def build_data(args: argparse.Namespace) -> None:
    ensure_database(args.database_url)
    manage(args, "migrate", "--noinput", "-v", "0")
    command = ["bench_data", "--tier", args.tier, "--seed", str(args.seed), "--wipe"]
    manage(args, *command)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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


# --- HTTP ---------------------------------------------------------------------------------------


class HttpError(Exception):
    def __init__(self, method: str, path: str, status: int, body: bytes):
        super().__init__(f"{method} {path} -> {status}: {body[:300]!r}")
        self.status = status


class Client:
    """One keep-alive connection (reopened transparently when the server closes it: a sync
    gunicorn worker closes after every response)."""

    def __init__(self, port: int, token: str | None = None):
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, body: Any = None, *, token: str | None = None
    ) -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1", "Accept": "application/json"}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.conn.close()
                return response.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection before this request.
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        status, data = self.request(method, path, body)
        if status != expect:
            raise HttpError(method, path, status, data)
        return json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


def login(port: int, email: str) -> tuple[str, int]:
    client = Client(port)
    tokens = client.json("POST", f"{API}/auth/login", {"email": email, "password": BENCH_PASSWORD})
    client.token = tokens["access"]
    me = client.json("GET", f"{API}/me")
    client.close()
    return tokens["access"], int(me["id"])


# --- Statistics ---------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


@dataclass
class Figure:
    name: str
    samples_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.samples_ms)
        total = sum(values)
        return {
            "n": len(values),
            "errors": self.errors,
            "p50_ms": round(percentile(values, 50), 3),
            "p95_ms": round(percentile(values, 95), 3),
            "p99_ms": round(percentile(values, 99), 3),
            "mean_ms": round(statistics.fmean(values), 3) if values else None,
            "max_ms": round(values[-1], 3) if values else None,
            # One connection, one request at a time: the rate this path sustains.
            "req_per_s": round(len(values) / (total / 1000), 1) if total else None,
        }


def timed(call: Callable[[], tuple[int, bytes]]) -> tuple[float, int, bytes]:
    started = time.perf_counter_ns()
    status, body = call()
    return (time.perf_counter_ns() - started) / 1e6, status, body


def measure_one(
    name: str,
    client: Client,
    *,
    n: int,
    warmup: int,
    request: Callable[[int], tuple[str, str, Any]],
    before: Callable[[int], None] | None = None,
    expect: int = 200,
) -> Figure:
    """``warmup + n`` requests over one connection; ``before`` runs untimed before each."""
    figure = Figure(name)
    for i in range(warmup + n):
        if before is not None:
            before(i)
        method, path, body = request(i)
        elapsed, status, data = timed(partial(client.request, method, path, body))
        if status != expect:
            figure.errors += 1
            if figure.errors <= 3:
                log(f"  {name}: {method} {path} -> {status} {data[:200]!r}")
            continue
        if i >= warmup:
            figure.samples_ms.append(elapsed)
    return figure


# --- Scenario helpers ---------------------------------------------------------------------------


class PracticeFeed:
    """An endless supply of unanswered practice questions for one user: sessions of 100
    questions, created (untimed) as they run out."""

    def __init__(self, client: Client):
        self.client = client
        self.queue: list[tuple[int, int, int]] = []  # (session, question, option)
        self.sessions = 0

    def add(self, session_id: int, questions: list[dict[str, Any]]) -> None:
        self.sessions += 1
        for item in questions:
            option = item["options"][item["id"] % len(item["options"])]["id"]
            self.queue.append((session_id, item["id"], option))

    def refill(self) -> None:
        session = self.client.json(
            "POST", f"{API}/practice/sessions", {"question_count": 100}, expect=201
        )
        path = f"{API}/practice/sessions/{session['id']}/questions"
        self.add(session["id"], self.client.json("GET", path))

    def next(self) -> tuple[str, str, Any]:
        if not self.queue:
            self.refill()
        session_id, question_id, option_id = self.queue.pop(0)
        return (
            "POST",
            f"{API}/practice/sessions/{session_id}/attempts",
            {"question_id": question_id, "selected_option_ids": [option_id], "time_spent_sec": 30},
        )


def exam_attempts(session: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """An answer to every question of a started exam session (one option each, at random)."""
    return [
        {
            "question_id": q["id"],
            "selected_option_ids": [rng.choice(q["options"])["id"]],
            "time_spent_sec": 40,
        }
        for q in session["questions"]
    ]


def exam_template_id(client: Client) -> int:
    for template in client.json("GET", f"{API}/exams/templates"):
        if template["name"] == BENCH_EXAM_TEMPLATE:
            return int(template["id"])
    raise SystemExit(f"exam template {BENCH_EXAM_TEMPLATE!r} not found: rebuild the bench data")


def prepare_exam(client: Client, template_id: int, rng: random.Random) -> tuple[int, Figure]:
    """Starts a session and saves an answer to every question in one batch; returns the
    session id (ready to submit) and the timings of the start and the save."""
    figure = Figure("prepare")
    elapsed, status, body = timed(
        lambda: client.request("POST", f"{API}/exams/sessions", {"template_id": template_id})
    )
    if status not in (200, 201):
        raise HttpError("POST", "/exams/sessions", status, body)
    session = json.loads(body)
    figure.samples_ms.append(elapsed)
    attempts = exam_attempts(session, rng)
    elapsed, status, body = timed(
        lambda: client.request(
            "POST", f"{API}/exams/sessions/{session['id']}/attempts", {"attempts": attempts}
        )
    )
    if status != 200:
        raise HttpError("POST", "/exams/sessions/attempts", status, body)
    figure.samples_ms.append(elapsed)
    return int(session["id"]), figure


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


# --- The single-connection figures --------------------------------------------------------------


def interleaved_misses(
    client: Client,
    answers: list[int],
    probes: dict[int, tuple[str, int]],
    keys: RedisKeys,
    meter: CpuMeter,
    profiler: Profiler,
    n: int,
    warmup: int,
    record: Callable[[Figure, dict[str, float] | None], None],
) -> None:
    """The dashboard miss of each probe learner, measured in turn request by request (probe 1,
    probe 2, ..., probe 1, ...), not in blocks: the machine's own drift over a minute (other
    tenants of the VM, CPU frequency) was larger than the differences between the probes, and
    measuring them in blocks turned it into a false "cost grows with history". Each request
    is preceded, untimed, by the deletion of that learner's cache entry; the CPU of each
    request is counted to its probe."""
    figures = {a: Figure(f"dashboard miss ({a} answers)") for a in answers}
    cpu: dict[int, dict[str, float]] = {a: {} for a in answers}
    deleters = {}
    for a in answers:
        token, uid = probes[a]
        client.token = token
        client.json("GET", f"{API}/dashboard")  # fills the cache entry, to find its key
        deleters[a] = keys.deleter(keys.dashboard_key(uid))
    with profiler.figure("dashboard miss (interleaved)"):
        for i in range(warmup + n):
            for a in answers:
                client.token = probes[a][0]
                deleters[a](i)
                before = meter.sample()
                elapsed, status, data = timed(partial(client.request, "GET", f"{API}/dashboard"))
                for key, used in CpuMeter.used(before, meter.sample()).items():
                    cpu[a][key] = cpu[a].get(key, 0.0) + used
                if status != 200:
                    figures[a].errors += 1
                    if figures[a].errors <= 3:
                        log(f"  {figures[a].name}: -> {status} {data[:200]!r}")
                elif i >= warmup:
                    figures[a].samples_ms.append(elapsed)
    for a in answers:
        record(figures[a], CpuMeter.per_request(cpu[a], warmup + n))


def single_connection_figures(
    args: argparse.Namespace, port: int, keys: RedisKeys, profiler: Profiler, meter: CpuMeter
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    n, warmup = args.requests, args.warmup
    only = [p.strip() for p in args.only.split(",") if p.strip()]
    figures: dict[str, dict[str, Any]] = {}
    context: dict[str, Any] = {}

    def wanted(name: str) -> bool:
        return not only or any(name.startswith(prefix) for prefix in only)

    def record(figure: Figure, cpu: dict[str, float] | None = None) -> None:
        figures[figure.name] = {**figure.summary(), **(cpu or {})}
        s = figures[figure.name]
        log(
            f"  {figure.name:<34} n={s['n']:<5} p50={s['p50_ms']:8.2f}  p95={s['p95_ms']:8.2f}  "
            f"p99={s['p99_ms']:8.2f} ms  {s['req_per_s'] or 0:7.1f} req/s"
            + (
                f"  cpu/req: app {s['worker_cpu_ms_per_req']:.2f}, db {s['db_cpu_ms_per_req']:.2f}"
                " ms"
                if "worker_cpu_ms_per_req" in s
                else ""
            )
            + (f"  errors={figure.errors}" if figure.errors else "")
        )

    def measure(name: str, client: Client, path: str, **kw: Any) -> None:
        if not wanted(name):
            return
        kw.setdefault("n", n)
        kw.setdefault("warmup", warmup)
        kw.setdefault("request", lambda i: ("GET", path, None))
        with profiler.figure(name):
            before = meter.sample()
            figure = measure_one(name, client, **kw)
            after = meter.sample()
        record(figure, CpuMeter.per_request(CpuMeter.used(before, after), kw["n"] + kw["warmup"]))

    probes = {answers: login(port, probe_email(answers)) for answers in PROBE_ANSWERS}
    context["probe_ids"] = {str(a): uid for a, (_, uid) in probes.items()}
    token_1k, _ = probes[1_000]

    client = Client(port)
    measure("control (bare)", client, f"{API}/bench/control")
    client.token = token_1k
    measure("control (auth + cached JSON)", client, f"{API}/bench/cached")
    for answers in (1_000, 50_000):
        client.token = probes[answers][0]
        name = f"dashboard hit ({answers} answers)"
        measure(name, client, f"{API}/dashboard", n=n if answers == 1_000 else n // 2)
    misses = [a for a in PROBE_ANSWERS if wanted(f"dashboard miss ({a} answers)")]
    if misses:
        interleaved_misses(client, misses, probes, keys, meter, profiler, n, warmup, record)
    client.token = token_1k
    measure("categories", client, f"{API}/categories")
    client.close()

    # Writes: ordinary bench learners, so that the probes' histories stay as generated.
    if wanted("practice answer POST"):
        token, _ = login(port, user_email(1))
        writer = Client(port, token)
        feed = PracticeFeed(writer)
        measure("practice answer POST", writer, "", request=lambda i: feed.next(), expect=201)
        context["practice_sessions_created"] = feed.sessions
        writer.close()

    token, _ = login(port, user_email(2))
    examinee = Client(port, token)
    context["exam_template_id"] = template_id = exam_template_id(examinee)
    if wanted("exam"):
        rng = random.Random(args.seed)
        submit = Figure("exam submit (180 answers)")
        start = Figure("exam start (180 questions)")
        save = Figure("exam save 180 answers (batch)")
        submit_cpu = {"worker": 0.0, "db": 0.0}
        with profiler.figure("exam start, save, submit"):
            for i in range(args.submits + 2):
                session_id, prepared = prepare_exam(examinee, template_id, rng)
                path = f"{API}/exams/sessions/{session_id}/submit"
                before = meter.sample()
                elapsed, status, body = timed(partial(examinee.request, "POST", path, {}))
                for key, used in CpuMeter.used(before, meter.sample()).items():
                    submit_cpu[key] += used
                if status != 200:
                    submit.errors += 1
                    log(f"  submit -> {status} {body[:200]!r}")
                    continue
                if i >= 2:
                    submit.samples_ms.append(elapsed)
                    start.samples_ms.append(prepared.samples_ms[0])
                    save.samples_ms.append(prepared.samples_ms[1])
        record(submit, CpuMeter.per_request(submit_cpu, args.submits + 2))
        for figure in (start, save):
            record(figure)
    examinee.close()
    return figures, context


# --- Mixed load ---------------------------------------------------------------------------------


@dataclass
class Sample:
    op: str
    latency_ms: float  # from the scheduled start (queueing at the client included)
    ok: bool


class _OpFailed(Exception):
    pass


class Learner:
    """A bench learner of the mixed load: logged in once (untimed), with a queue of unanswered
    practice questions and, before a step that needs it, an exam ready to submit."""

    def __init__(self, port: int, email: str):
        self.token, self.user_id = login(port, email)
        self.email = email
        self.practice: list[tuple[int, int, int]] = []  # (session, question, option)
        self.exam_session: int | None = None  # started, every answer saved, not submitted

    def add_practice(self, session_id: int, questions: list[dict[str, Any]]) -> None:
        for item in questions:
            option = item["options"][item["id"] % len(item["options"])]["id"]
            self.practice.append((session_id, item["id"], option))


class MixedLoad:
    """Many learners over a few connections: dashboards, practice answers, exam submits and
    bare controls, each operation for a learner drawn at random.

    An exam submit is the submit alone, as the mix names it: the exams it submits are started
    and answered (180 answers saved) before the step, untimed, one per learner; a learner's
    dashboard after an answer or a submit is a cache miss, as it would be in production. An
    answer whose learner has no practice question left first creates a session of 100
    (recorded under its own label). Latency counts from when an operation was due (so
    queueing shows)."""

    def __init__(self, port: int, template_id: int, seed: int, first_user: int, learners: int):
        self.port = port
        self.template_id = template_id
        self.rng = random.Random(seed)
        self.first_user = first_user
        self.learners: list[Learner] = []
        self.setup = Client(port)
        self.ensure_learners(learners)

    def ensure_learners(self, count: int) -> None:
        while len(self.learners) < count:
            learner = Learner(self.port, user_email(self.first_user + len(self.learners)))
            self.refill_practice(learner)  # untimed, so that the steps do not pay for it
            self._expect(learner, "GET", f"{API}/dashboard", None, (200,))  # as a returning user
            self.learners.append(learner)

    def refill_practice(self, learner: Learner) -> None:
        """A new practice session of 100 questions for the learner (untimed)."""
        body = {"question_count": 100}
        session = json.loads(
            self._expect(learner, "POST", f"{API}/practice/sessions", body, (201,))
        )
        path = f"{API}/practice/sessions/{session['id']}/questions"
        learner.add_practice(
            session["id"], json.loads(self._expect(learner, "GET", path, None, (200,)))
        )

    def prepare_exams(self, count: int) -> list[Learner]:
        """``count`` learners with an exam ready to submit (untimed)."""
        self.ensure_learners(count)
        ready = []
        for learner in self.learners[:count]:
            if learner.exam_session is None:
                session = json.loads(
                    self._expect(
                        learner,
                        "POST",
                        f"{API}/exams/sessions",
                        {"template_id": self.template_id},
                        (200, 201),
                    )
                )
                attempts = {"attempts": exam_attempts(session, self.rng)}
                path = f"{API}/exams/sessions/{session['id']}/attempts"
                self._expect(learner, "POST", path, attempts, (200,))
                learner.exam_session = int(session["id"])
            ready.append(learner)
        return ready

    def _expect(
        self, learner: Learner, method: str, path: str, body: Any, ok: tuple[int, ...]
    ) -> bytes:
        status, data = self.setup.request(method, path, body, token=learner.token)
        if status not in ok:
            raise HttpError(method, path, status, data)
        return data

    def close(self) -> None:
        self.setup.close()

    def run(self, client: Client, op: str, learner: Learner, due: float) -> list[Sample]:
        samples: list[Sample] = []

        def call(
            label: str, method: str, path: str, body: Any = None, expect: tuple[int, ...] = (200,)
        ) -> Any:
            origin = due if not samples else time.perf_counter()
            try:
                status, data = client.request(method, path, body, token=learner.token)
            except (OSError, http.client.HTTPException):
                status, data = 0, b""
            ok = status in expect
            samples.append(Sample(label, (time.perf_counter() - origin) * 1000, ok))
            if not ok:
                raise _OpFailed(f"{label}: {status}")
            return json.loads(data) if data else None

        with contextlib.suppress(_OpFailed):
            if op == "dashboard":
                call("dashboard", "GET", f"{API}/dashboard")
            elif op == "control":
                call("control", "GET", f"{API}/bench/control")
            elif op == "answer":
                if not learner.practice:
                    session = call(
                        "practice session create",
                        "POST",
                        f"{API}/practice/sessions",
                        {"question_count": 100},
                        expect=(201,),
                    )
                    path = f"{API}/practice/sessions/{session['id']}/questions"
                    learner.add_practice(
                        session["id"], call("practice session questions", "GET", path)
                    )
                session_id, question_id, option_id = learner.practice.pop(0)
                call(
                    "answer",
                    "POST",
                    f"{API}/practice/sessions/{session_id}/attempts",
                    {
                        "question_id": question_id,
                        "selected_option_ids": [option_id],
                        "time_spent_sec": 30,
                    },
                    expect=(201,),
                )
            elif op == "submit":
                exam_id, learner.exam_session = learner.exam_session, None
                if exam_id is None:
                    raise ValueError("a submit needs an exam prepared for its learner")
                call("exam submit", "POST", f"{API}/exams/sessions/{exam_id}/submit", {})
            else:
                raise ValueError(op)
        return samples


MIX = (("dashboard", 60), ("answer", 30), ("submit", 5), ("control", 5))


def _stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
    }


def mixed_step(
    load: MixedLoad, connections: int, rate: float, seconds: float, seed: int
) -> dict[str, Any]:
    """Open loop: operations are due at a fixed rate whether or not earlier ones finished;
    latency is counted from when an operation was due, so a server that falls behind shows it."""
    total = max(1, int(rate * seconds))
    rng = random.Random(seed)
    ops = rng.choices([name for name, _ in MIX], weights=[w for _, w in MIX], k=total)
    submitters = iter(load.prepare_exams(ops.count("submit")))  # untimed, before the step
    log(f"  {rate:>6.0f} ops/s: {len(load.learners)} learners ready, step of {seconds:.0f} s")
    plan = [(op, next(submitters) if op == "submit" else rng.choice(load.learners)) for op in ops]
    samples: list[Sample] = []
    lock = threading.Lock()
    busy: set[int] = set()  # learners with an operation in flight (one at a time each)
    counter = iter(range(total))
    started = time.perf_counter() + 0.05

    def worker() -> None:
        client = Client(load.port)
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                op, learner = plan[index]
                due = started + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                with lock:  # a learner's own operations never overlap (their practice queue)
                    while learner.user_id in busy:
                        lock.release()
                        time.sleep(0.0005)
                        lock.acquire()
                    busy.add(learner.user_id)
                try:
                    done = load.run(client, op, learner, due)
                finally:
                    with lock:
                        busy.discard(learner.user_id)
                with lock:
                    samples.extend(done)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    by_label: dict[str, Any] = {}
    for label in sorted({s.op for s in samples}):
        mine = [s for s in samples if s.op == label]
        by_label[label] = {
            "n": len(mine),
            "errors": sum(1 for s in mine if not s.ok),
            **_stats([s.latency_ms for s in mine if s.ok]),
        }
    by_label.setdefault("dashboard", {"n": 0, "errors": 0, **_stats([])})
    return {
        "target_ops_per_s": rate,
        "achieved_ops_per_s": round(total / wall, 1),
        "requests_per_s": round(len(samples) / wall, 1),
        "requests": len(samples),
        "errors": sum(1 for s in samples if not s.ok),
        **_stats([s.latency_ms for s in samples if s.ok]),
        "by_request": by_label,
    }


def mixed_load(args: argparse.Namespace, port: int, template_id: int) -> dict[str, Any]:
    load = MixedLoad(port, template_id, args.seed, first_user=10, learners=args.learners)
    # Warm-up, not recorded: the worker's first requests import and fill its caches, and every
    # learner's first dashboard is a miss.
    warm = mixed_step(load, args.connections, min(args.rates), min(5.0, args.step_seconds), 0)
    log(f"  warm-up at {min(args.rates):.0f} ops/s: {warm['requests']} requests (not counted)")
    steps = []
    knee: dict[str, Any] | None = None
    for rate in args.rates:
        step = mixed_step(load, args.connections, rate, args.step_seconds, args.seed + int(rate))
        steps.append(step)
        ok = step["errors"] == 0 and step["p95_ms"] <= KNEE_P95_MS
        log(
            f"  {rate:>6.0f} ops/s due: {step['achieved_ops_per_s']:6.1f} ops/s, "
            f"{step['requests_per_s']:6.1f} req/s, p50 {step['p50_ms']:7.1f}, p95 "
            f"{step['p95_ms']:8.1f} ms; dashboard p95 "
            f"{step['by_request']['dashboard']['p95_ms']:8.1f} ms; errors {step['errors']}"
            + ("" if ok else "  <- past the knee")
        )
        if not ok:
            break
        knee = step
        time.sleep(1)
    load.close()
    return {
        "connections": args.connections,
        "learners": len(load.learners),
        "mix": dict(MIX),
        "steps": steps,
        "knee_ops_per_s": knee["target_ops_per_s"] if knee else None,
        "knee_requests_per_s": knee["requests_per_s"] if knee else None,
    }


# --- Resilience ---------------------------------------------------------------------------------


def resilience(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """A soak at a steady rate on a server of its own with a private Redis; a graceful
    reload (SIGHUP) and a Redis stop and restart happen meanwhile. Every request must succeed."""
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        return {"skipped": "redis-server not installed"}
    redis_port = free_port()
    redis_proc = subprocess.Popen(
        [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    env = {**env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    manage(args, "migrate", "--noinput", "-v", "0")  # others may have committed meanwhile
    server = start_server(args, env=env, log_path=args.log_dir / "gunicorn-resilience.log")
    events: list[str] = []
    try:
        load = MixedLoad(
            server.port, args.template_id, args.seed, first_user=200, learners=args.learners
        )
        rate, seconds = args.soak_rate, args.soak_seconds

        def chaos() -> None:
            nonlocal redis_proc
            time.sleep(seconds * 0.2)
            server.reload()
            events.append(f"{seconds * 0.2:.0f}s: gunicorn SIGHUP (graceful reload)")
            time.sleep(seconds * 0.2)
            redis_proc.send_signal(signal.SIGTERM)
            redis_proc.wait()
            events.append(f"{seconds * 0.4:.0f}s: Redis stopped")
            time.sleep(seconds * 0.3)
            redis_proc = subprocess.Popen(
                [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
            )
            events.append(f"{seconds * 0.7:.0f}s: Redis started again")

        thread = threading.Thread(target=chaos)
        thread.start()
        step = mixed_step(load, args.connections, rate, seconds, args.seed)
        thread.join()
        load.close()
    finally:
        server.stop()
        if redis_proc.poll() is None:
            redis_proc.send_signal(signal.SIGTERM)
            redis_proc.wait()
    log(
        f"  soak {rate} ops/s for {seconds} s: errors {step['errors']}, p95 {step['p95_ms']} ms; "
        + "; ".join(events)
    )
    return {"rate": rate, "seconds": seconds, "events": events, **step}


# --- Verdicts -----------------------------------------------------------------------------------


@dataclass
class Verdict:
    figure: str
    value: float | None
    unit: str
    ratio: float | None
    ratio_to: str
    goal: str
    passed: bool | None
    cpu_ms: float | None = None  # app + database CPU per request
    cpu_ratio: float | None = None  # to the same control as ``ratio``


def verdicts(
    figures: dict[str, dict[str, Any]],
    mixed: dict[str, Any] | None,
    soak: dict[str, Any] | None,
    other_tier: dict[str, Any] | None,
) -> list[Verdict]:
    nan = float("nan")
    bare = figures.get("control (bare)", {}).get("p50_ms", nan)
    cached = figures.get("control (auth + cached JSON)", {}).get("p50_ms", nan)
    rows: list[Verdict] = []

    def cpu_of(name: str) -> float | None:
        f = figures.get(name, {})
        if "worker_cpu_ms_per_req" not in f:
            return None
        return float(f["worker_cpu_ms_per_req"] + f.get("db_cpu_ms_per_req", 0.0))

    def row(
        name: str,
        key: str,
        goal: str,
        check: Callable[[float, float], bool] | None,
        base: float = bare,
        base_name: str = "bare",
    ) -> None:
        if name not in figures:  # not measured in this run (--only)
            return
        f = figures[name]
        value = f[key]
        ratio = value / base if base == base and base else None
        passed = None if check is None else bool(check(value, ratio or 0) and f["errors"] == 0)
        cpu = cpu_of(name)
        control_cpu = cpu_of(
            "control (bare)" if base_name == "bare" else "control (auth + cached JSON)"
        )
        cpu_ratio = cpu / control_cpu if cpu is not None and control_cpu else None
        rows.append(
            Verdict(
                f"{name} {key[:3].upper()}",
                value,
                "ms",
                ratio,
                base_name,
                goal,
                passed,
                cpu_ms=cpu,
                cpu_ratio=cpu_ratio,
            )
        )

    row("control (bare)", "p50_ms", "(reference)", None)
    row("control (auth + cached JSON)", "p50_ms", "(reference)", None)
    row(
        "dashboard hit (1000 answers)",
        "p50_ms",
        f"<= {GOAL_HIT_VS_CACHED}x cached control",
        lambda v, r: r <= GOAL_HIT_VS_CACHED,
        base=cached,
        base_name="cached",
    )
    miss = "dashboard miss (1000 answers)"
    row(
        miss,
        "p50_ms",
        f"<= {GOAL_MISS_VS_BARE}x bare and <= {GOAL_MISS_P50_MS} ms",
        lambda v, r: r <= GOAL_MISS_VS_BARE and v <= GOAL_MISS_P50_MS,
    )
    row(miss, "p95_ms", f"<= {GOAL_MISS_P95_MS} ms", lambda v, r: v <= GOAL_MISS_P95_MS)
    small = figures.get("dashboard miss (100 answers)")
    big = figures.get("dashboard miss (50000 answers)")
    if small and big and small["p50_ms"]:
        flat = big["p50_ms"] / small["p50_ms"]
        rows.append(
            Verdict(
                "dashboard miss P50, 50k vs 100 answers",
                flat,
                "x",
                None,
                "",
                f"<= {GOAL_FLAT}x",
                flat <= GOAL_FLAT,
            )
        )

        def cpu(f: dict[str, Any]) -> float:
            return float(f.get("worker_cpu_ms_per_req", 0) + f.get("db_cpu_ms_per_req", 0))

        if cpu(small) > 0:
            # The same comparison in CPU per request (app + database), which other load on
            # the machine disturbs far less than latency.
            flat_cpu = cpu(big) / cpu(small)
            rows.append(
                Verdict(
                    "dashboard miss CPU/req, 50k vs 100 answers",
                    flat_cpu,
                    "x",
                    None,
                    "",
                    f"<= {GOAL_FLAT}x",
                    flat_cpu <= GOAL_FLAT,
                )
            )
    row("categories", "p50_ms", "(no goal)", None)
    row(
        "practice answer POST",
        "p50_ms",
        f"<= {GOAL_ANSWER_VS_BARE}x bare and <= {GOAL_ANSWER_P50_MS} ms",
        lambda v, r: r <= GOAL_ANSWER_VS_BARE and v <= GOAL_ANSWER_P50_MS,
    )
    row(
        "exam submit (180 answers)",
        "p50_ms",
        f"<= {GOAL_SUBMIT_P50_MS} ms",
        lambda v, r: v <= GOAL_SUBMIT_P50_MS,
    )
    row(
        "exam submit (180 answers)",
        "p95_ms",
        f"<= {GOAL_SUBMIT_P95_MS} ms",
        lambda v, r: v <= GOAL_SUBMIT_P95_MS,
    )
    if other_tier is not None and miss in figures:
        value = figures[miss]["p50_ms"] / other_tier["p50_ms"]
        rows.append(
            Verdict(
                f"dashboard miss P50, this tier vs tier {other_tier['tier']}",
                value,
                "x",
                None,
                "",
                f"<= {GOAL_FLAT}x",
                value <= GOAL_FLAT,
            )
        )
    if mixed is not None:
        best = None
        for step in mixed["steps"]:
            if (
                step["errors"] == 0
                and step["by_request"]["dashboard"]["p95_ms"] <= GOAL_MIXED_DASHBOARD_P95_MS
            ):
                best = max(best or 0, step["requests_per_s"])
        rows.append(
            Verdict(
                "mixed: req/s, dashboard P95<=100ms, 0 errors",
                best,
                "req/s",
                None,
                "",
                f">= {GOAL_MIXED_RPS:.0f}",
                best is not None and best >= GOAL_MIXED_RPS,
            )
        )
        rows.append(
            Verdict(
                "mixed: knee (P95<=600ms, 0 errors)",
                mixed["knee_requests_per_s"],
                "req/s",
                None,
                "",
                "(reported)",
                None,
            )
        )
    if soak is not None and "errors" in soak:
        rows.append(
            Verdict(
                "soak with reload + Redis stop: failed requests",
                soak["errors"],
                "",
                None,
                "",
                "0",
                soak["errors"] == 0,
            )
        )
    return rows


def print_table(rows: list[Verdict]) -> None:
    header = (
        f"{'figure':<46} {'value':>11} {'ratio':>12} {'cpu/req':>9} {'cpu ratio':>9}  "
        f"{'goal':<34} result"
    )
    log("")
    log(header)
    log("-" * len(header))
    for r in rows:
        if r.value is None:
            value = "-"
        elif isinstance(r.value, float):
            value = f"{r.value:.2f} {r.unit}"
        else:
            value = f"{r.value} {r.unit}"
        ratio = "" if r.ratio is None else f"{r.ratio:.1f}x {r.ratio_to}"
        cpu = "" if r.cpu_ms is None else f"{r.cpu_ms:.2f} ms"
        cpu_ratio = "" if r.cpu_ratio is None else f"{r.cpu_ratio:.1f}x"
        result = "" if r.passed is None else ("PASS" if r.passed else "FAIL")
        log(
            f"{r.figure:<46} {value:>11} {ratio:>12} {cpu:>9} {cpu_ratio:>9}  {r.goal:<34} {result}"
        )


def previous_other_tier(tier: str) -> dict[str, Any] | None:
    if not RESULTS.exists():
        return None
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        with contextlib.suppress(ValueError, KeyError, OSError):
            data = json.loads(path.read_text())
            if data["meta"]["tier"] != tier:
                miss = data["figures"]["dashboard miss (1000 answers)"]
                return {"tier": data["meta"]["tier"], "p50_ms": miss["p50_ms"], "file": path.name}
    return None


def git_commit() -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    return ""


@contextlib.contextmanager
def running_server(args: argparse.Namespace, env: dict[str, str]) -> Iterator[Server]:
    server = start_server(args, env=env, log_path=args.log_dir / "gunicorn.log")
    try:
        yield server
    finally:
        server.stop()


def run(args: argparse.Namespace) -> int:
    ensure_database(args.database_url)
    manage(args, "migrate", "--noinput", "-v", "0")  # the code may have moved on since the data
    shape = dataset_shape(args.database_url)
    if shape["users"] == 0:
        log("no bench dataset in the bench database: building tier S")
        args.tier = "S"
        build_data(args)
        shape = dataset_shape(args.database_url)
    tier = "M" if shape["users"] > 10_000 else "S"
    vacuumed = vacuum(args.database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.log_dir = RESULTS / f"{stamp}-logs"
    args.log_dir.mkdir(exist_ok=True)
    pinned = cpu_count() >= 2 and not args.no_pin
    if pinned and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.client_cpu})
    keys = RedisKeys(args.redis_url)
    keys.flush()
    env = server_env(args)
    load_before = os.getloadavg()
    log(
        f"tier {tier}: {shape['users']:,} bench users, ~{shape['facts']:,} answer facts; "
        f"server on CPU {args.server_cpu if pinned else 'any'}, load generator on CPU "
        f"{args.client_cpu if pinned else 'any'}; load average {load_before[0]:.2f}"
    )
    mixed = soak = None
    with running_server(args, env) as server:
        log(f"gunicorn {args.worker_class} x{args.workers} on port {server.port}")
        log("one connection, one endpoint at a time (latencies in ms):")
        profiler = Profiler(server if args.profile else None, args.log_dir)
        meter = CpuMeter(server, urlparse(args.database_url).path.lstrip("/"))
        figures, context = single_connection_figures(args, server.port, keys, profiler, meter)
        meter.stop()
        args.template_id = context["exam_template_id"]
        if not args.no_mixed:
            log(f"mixed load over {args.connections} connections ({MIX}):")
            mixed = mixed_load(args, server.port, args.template_id)
    if args.resilience:
        if args.soak_rate is None:
            knee = (mixed or {}).get("knee_ops_per_s")
            args.soak_rate = max(2.0, knee / 2) if knee else 2.0
        log("resilience soak:")
        soak = resilience(args, env)
    keys.flush()
    other = previous_other_tier(tier)
    rows = verdicts(figures, mixed, soak, other)
    print_table(rows)
    result = {
        "meta": {
            "timestamp": stamp,
            "tier": tier,
            "seed": args.seed,
            "commit": git_commit(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pinned": pinned,
            "worker_class": args.worker_class,
            "workers": args.workers,
            "requests_per_figure": args.requests,
            "warmup": args.warmup,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "dataset": shape,
            "database": vacuumed,
            "compared_with": other,
            **context,
        },
        "figures": figures,
        "mixed": mixed,
        "resilience": soak,
        "verdicts": [r.__dict__ for r in rows],
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    log(f"\nresults: {path.relative_to(ROOT)} (server log: {args.log_dir.relative_to(ROOT)})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["run", "data"], nargs="?", default="run")
    parser.add_argument("--tier", choices=["S", "M"], default=os.environ.get("BENCH_TIER", "S"))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", "42")))
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per figure")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--submits", type=int, default=20, help="measured exam submits")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="workers, all on the server's one core (two: one computes while the other waits "
        "on PostgreSQL)",
    )
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=["sync", "gthread"],
        help="gthread (as the Dockerfile serves: keep-alive connections) or sync",
    )
    parser.add_argument("--threads", type=int, default=2, help="gthread only")
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--client-cpu", type=int, default=0)
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--no-mixed", action="store_true")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--learners",
        type=int,
        default=96,
        help="learners of the mixed load (more are logged in when a step's submits need them)",
    )
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 250, 300],
        help="mixed-load steps, operations per second",
    )
    parser.add_argument("--step-seconds", type=float, default=8.0)
    parser.add_argument("--resilience", action="store_true", help="also run the soak")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the worker during each figure"
    )
    parser.add_argument("--only", default="", help="comma-separated figure name prefixes")
    parser.add_argument(
        "--soak-rate",
        type=float,
        default=None,
        help="operations/s of the soak (default: half the mixed-load knee, at least 2)",
    )
    parser.add_argument("--soak-seconds", type=float, default=30.0)
    args = parser.parse_args()
    if args.command == "data":
        build_data(args)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
