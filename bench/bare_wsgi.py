"""The benchmark's yardstick: a bare WSGI app that answers each captured request with the bytes
(status, headers and body) the registry sent for it, and nothing else.

`bench/bench.py` captures the responses into a JSON file and starts this app under the same
gunicorn settings as the site (`BENCH_CAPTURE` names the file), so the requests per second it
serves are what the server, the network stack and the response size allow: the ceiling a cache
in the registry can approach.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

with open(os.environ["BENCH_CAPTURE"], encoding="utf-8") as f:
    RESPONSES = {
        target: (f"{r['status']} {r['reason']}", [(k, v) for k, v in r["headers"]], base64.b64decode(r["body"]))
        for target, r in json.load(f).items()
    }
NOT_FOUND = ("404 Not Found", [("Content-Type", "text/plain")], b"not captured")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    query = environ.get("QUERY_STRING", "")
    target = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
    status, headers, body = RESPONSES.get(target, NOT_FOUND)
    start_response(status, headers)
    return [body]
