"""``make bench``: serve the app as in production and measure its hot endpoints against controls.

    .venv/bin/python scripts/bench/run.py data [--tier S|M] [--seed 42]   # (re)build the data
    .venv/bin/python scripts/bench/run.py run  [--requests 2000] [...]    # measure

``run`` builds tier S first when the bench database holds no bench dataset. It starts gunicorn
(``config.settings.bench``: production plus the bench app and its controls; gunicorn pinned to
CPU 1) on the bench
database and a Redis database of its own, pins itself to CPU 0, logs in as the probe users and
measures one endpoint at a time over one connection, then a mixed load over several
connections at stepped rates. It prints a table (figure, ratio to the control, goal, PASS/FAIL)
and writes the same as JSON to ``bench/results/<timestamp>.json``. See docs/benchmark.md.

The parts, by responsibility (each a module beside this one): ``environment`` (paths, database,
server environment), ``server`` (gunicorn), ``client`` (HTTP), ``stats`` (figures),
``instruments`` (Redis keys, CPU meter, profiler), ``single`` (the single-connection figures),
``mixed`` (the mixed load and the soak) and ``verdicts`` (goals and the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    RESULTS,
    ROOT,
    build_data,
    cpu_count,
    dataset_shape,
    ensure_database,
    git_commit,
    log,
    manage,
    server_env,
    vacuum,
)
from scripts.bench.instruments import CpuMeter, Profiler, RedisKeys
from scripts.bench.mixed import MIX, mixed_load, resilience
from scripts.bench.server import running_server
from scripts.bench.single import single_connection_figures
from scripts.bench.verdicts import previous_other_tier, print_table, verdicts


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
