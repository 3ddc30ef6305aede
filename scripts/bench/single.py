"""The single-connection figures: one endpoint at a time over one connection, against the
controls (bare, and authentication + one cache read)."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from functools import partial
from typing import Any

from apps.bench.constants import BENCH_EXAM_TEMPLATE, PROBE_ANSWERS, probe_email, user_email
from scripts.bench.client import Client, HttpError, login
from scripts.bench.environment import API, log
from scripts.bench.instruments import CpuMeter, Profiler, RedisKeys
from scripts.bench.stats import Figure, timed


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


# --- The figures ----------------------------------------------------------------------------------


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
