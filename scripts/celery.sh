#!/bin/sh
# Celery as docker-compose.yml and deploy/kubernetes run it: `sh scripts/celery.sh worker -Q ...`
# or `sh scripts/celery.sh beat ...`. A worker's pool processes record task counters in
# PROMETHEUS_MULTIPROC_DIR, which its metrics listener (CELERY_METRICS_PORT) adds up; the
# directory is emptied at each start, so counters of processes from a previous run are not
# added to this one's.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi
exec celery -A config "$@"
