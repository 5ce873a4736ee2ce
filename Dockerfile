FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# Static files are collected into the image and served by WhiteNoise. The key below exists only
# for this build step (settings refuse to load without one when DEBUG is off).
RUN pybabel -q compile -d locale -D "django djangojs" \
    && SECRET_KEY=build-only-collectstatic-key ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && useradd --system --no-create-home registry \
    && mkdir -p /srv/data-package && chown registry /srv/data-package

USER registry
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
# gunicorn takes its number of worker processes from WEB_CONCURRENCY.
CMD ["gunicorn", "registry.wsgi", "--bind", "0.0.0.0:8000", "--timeout", "60", "--access-logfile", "-"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
