"""What an anonymous read costs in-process when the response cache answers it (the front door in
front of Django, counties.caching.front_door, and the Django-level cache, counties.caching.responses), beside
the same request with the cache off and a bare WSGI app returning the same bytes (no server, no
network). The front door only answers with a shared cache (Redis): with locmem its column is the
Django-level hit plus the front door's pass-through.

    DJANGO_SETTINGS_MODULE=registry.settings_test .venv/bin/python bench/cache_hit.py
    CACHE_URL=redis://127.0.0.1:6379/0 DJANGO_SETTINGS_MODULE=registry.settings_test .venv/bin/python bench/cache_hit.py

Uses the database of DATABASE_URL (db.sqlite3 by default, after `make data`). Prints the median
of several rounds per request, in microseconds; "lookup" is the cache read for the token and the
entry alone (one round trip with Redis; the token's query with locmem).
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings_test")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from counties.caching import keys  # noqa: E402
from counties.caching import token as data_token  # noqa: E402
from counties.caching.front_door import FrontCache  # noqa: E402

URLS = [
    "/api/v1/counties/?province=530000&page_size=50",
    "/counties/?province=530000",
    "/api/v1/stats/coverage/?as_of=2019",
    "/en/counties/130705/",
    "/counties/export.csv?province=650000",
]
ROUNDS, CALLS = 7, 200


def environ(url: str) -> dict:
    path, _, query = url.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }


def call(app, env: dict) -> tuple[str, bytes]:
    status = []
    body = b"".join(app(dict(env), lambda s, h, *a: status.append(s)))
    return status[0], body


def median_us(app, env: dict, calls: int = CALLS) -> float:
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(calls):
            call(app, env)
        rounds.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(rounds)


def main() -> None:
    settings.API_THROTTLE_RATES = {"anon": "1000000/minute", "token": "1000000/minute", "export": "1000000/minute"}
    app = get_wsgi_application()
    print(f"cache backend: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; database: {connection.vendor}")
    front = FrontCache(app)
    print(f"{'request':<50} {'front µs':>8} {'hit µs':>8} {'queries':>7} {'no cache µs':>11} {'bare WSGI µs':>12} {'lookup µs':>9}")
    for url in URLS:
        env = environ(url)
        settings.RESPONSE_CACHE = True
        cache.clear()
        status, body = call(app, env)
        assert status.startswith("200"), (url, status)
        with CaptureQueriesContext(connection) as queries:
            call(app, env)
        hit = median_us(app, env)
        call(front, env)  # kept by the front door (with Redis; with locmem it passes everything on)
        front_hit = median_us(front, env)
        settings.RESPONSE_CACHE = False
        miss = median_us(app, env, calls=5)

        def bare(environ, start_response, body=body):
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        key = keys.response_key("x")

        def lookup_only(environ, start_response, key=key):
            data_token.current_state_and(key)
            start_response("200 OK", [])
            return [b""]

        lookup = median_us(lookup_only, env)
        print(f"{url:<50} {front_hit:>8.0f} {hit:>8.0f} {len(queries):>7} {miss:>11.0f} {median_us(bare, env):>12.1f} {lookup:>9.0f}")


if __name__ == "__main__":
    main()
