# OpenMRCS API image: Python 3.11 slim, non-root, gunicorn serving config.wsgi.
# The same image runs the web process, the migration, the Celery workers (one group per queue)
# and Celery Beat (docker-compose.yml, deploy/kubernetes).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PORT=8000

WORKDIR /app

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app

COPY requirements/ requirements/
RUN pip install -r requirements/production.txt

COPY --chown=app:app . .

# Static files are collected at build time (whitenoise serves them). The secret, host and
# database URL given here exist only for this command (nothing connects); the running container
# must be given real ones.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://collectstatic-only/openmrcs \
    python manage.py collectstatic --noinput \
    && chown -R app:app /app/staticfiles

USER app

EXPOSE 8000

# Liveness, asked as the proxy would: an allowed Host header and HTTPS (no SSL redirect).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; \
h = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); \
h = 'localhost' if h in ('', '*') else h; \
u.urlopen(u.Request('http://127.0.0.1:%s/api/v1/health/live' % os.environ.get('PORT', '8000'), \
headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)" || exit 1

ENV PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
# The one web command (also docker-compose.yml's web service and deploy/kubernetes' web
# Deployment; tests/deploy checks they agree): gunicorn with config/gunicorn.py. Workers, Beat and
# the migration run this image with a command of their own.
CMD ["sh", "scripts/gunicorn.sh"]
