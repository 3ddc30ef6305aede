#!/bin/sh
# The web process, started the same way by the image (Dockerfile CMD), docker-compose.yml and
# deploy/kubernetes: settings in config/gunicorn.py, sizing from the environment.
# Metrics of every gunicorn worker are merged through PROMETHEUS_MULTIPROC_DIR, emptied at each
# start (the hooks in config/gunicorn.py mark exited workers dead).
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi
exec gunicorn -c python:config.gunicorn "$@"
