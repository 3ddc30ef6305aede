"""The mixed load: many learners over a few connections at stepped open-loop rates, up to the
knee; and the resilience soak (a graceful reload and a Redis outage under load)."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from apps.bench.constants import user_email
from scripts.bench.client import Client, HttpError, login
from scripts.bench.environment import API, log, manage
from scripts.bench.server import free_port, start_server
from scripts.bench.single import exam_attempts
from scripts.bench.stats import summary_stats
from scripts.bench.verdicts import KNEE_P95_MS


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
                # While the exam is open, practice holds its questions back (answering one is
                # a designed 409, question_in_open_exam): a learner answers only the others.
                held = {int(q["id"]) for q in session["questions"]}
                learner.practice = [p for p in learner.practice if p[1] not in held]
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
            **summary_stats([s.latency_ms for s in mine if s.ok]),
        }
    by_label.setdefault("dashboard", {"n": 0, "errors": 0, **summary_stats([])})
    return {
        "target_ops_per_s": rate,
        "achieved_ops_per_s": round(total / wall, 1),
        "requests_per_s": round(len(samples) / wall, 1),
        "requests": len(samples),
        "errors": sum(1 for s in samples if not s.ok),
        **summary_stats([s.latency_ms for s in samples if s.ok]),
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
