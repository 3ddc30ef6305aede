"""Gunicorn's settings, the same wherever the web process runs: the image's command, the
``web`` service of docker-compose.yml and the web Deployment of deploy/kubernetes all start
``scripts/gunicorn.sh``, which runs ``gunicorn -c python:config.gunicorn``.

Sizing comes from the environment: ``WEB_CONCURRENCY`` worker processes of ``GUNICORN_THREADS``
threads each (docs/scaling.md: one worker per core, two threads to overlap database waits),
``GUNICORN_TIMEOUT`` seconds before a stuck worker is replaced, ``PORT`` to listen on, and
``FORWARDED_ALLOW_IPS``: the proxies whose X-Forwarded-* headers are believed.
"""

from __future__ import annotations

import os

from apps.core.observability.gunicorn_hooks import child_exit

wsgi_app = "config.wsgi:application"
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# A rolling update or a scale-in sends SIGTERM: requests in flight get this long to finish,
# inside Kubernetes' terminationGracePeriodSeconds (deploy/kubernetes/base/web.yaml).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than a load balancer's idle timeout, so the balancer closes idle connections first.
keepalive = 75
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

__all__ = ["child_exit"]  # a server hook: gunicorn reads it from this module
