"""Benchmark tooling (``manage.py bench_data``, ``make bench``). Not imported by the running
application: like the ``seed`` command it sits above every app and may use any of them."""
