"""docker-compose.yml, the Dockerfile, nginx.conf and the entrypoint, read (or run) against what the
app needs (no Docker engine runs in the test suite)."""

import json
import re
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

from registry.settings import cache_from_url

from .conftest import ROOT, manage

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
SAMPLE = {
    "SECRET_KEY": "a-private-production-key-that-is-long-enough-0a1b2c3d4e5f6a7b8c9d",
    "POSTGRES_PASSWORD": "pw",
    "ALLOWED_HOSTS": "registry.example.cn",
}


def interpolate(value: str) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, with SAMPLE as the operator's environment."""

    def one(match: re.Match) -> str:
        name, operator, rest = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in SAMPLE:
            return SAMPLE[name]
        assert operator != ":?", f"{name} must be set: {rest}"
        return rest

    return re.sub(r"\$\{([A-Z_]+)(:-|:\?)?([^}]*)\}", one, value)


def environment(service: str) -> dict[str, str]:
    return {name: interpolate(str(value)) for name, value in SERVICES[service]["environment"].items()}


def dockerfile() -> dict[str, list[str]]:
    """The Dockerfile's instructions, continuation lines joined: {"CMD": ["[...]"], ...}."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    instructions: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, rest = line.strip().partition(" ")
            instructions.setdefault(name, []).append(rest.strip())
    return instructions


def nginx_config(path: Path) -> list[tuple]:
    """An nginx configuration as nested directives, comments left out: [(name, [args], children or None)]."""
    tokens = re.findall(r"[{};]|[^\s{};]+", re.sub(r"#[^\n]*", "", path.read_text(encoding="utf-8")))
    stack: list[list] = [[]]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append((words[0], words[1:], None))
        elif token == "{":
            block: list = []
            stack[-1].append((words[0], words[1:], block))
            stack.append(block)
        elif token == "}":
            assert not words, words
            stack.pop()
        else:
            words.append(token)
            continue
        words = []
    assert len(stack) == 1 and not words, "unbalanced nginx.conf"
    return stack[0]


def directives(block: list[tuple], name: str) -> list[tuple]:
    return [(args, children) for directive, args, children in block if directive == name]


def run_entrypoint(tmp_path: Path, env: dict[str, str], command: list[str]) -> list[str]:
    """What the image's entrypoint runs, in order, started as a container starts it with `env` and
    `command` (python and gunicorn only record how they were called)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "ran.log"
    bin_dir.mkdir(parents=True)
    for program in ("python", "gunicorn"):
        (bin_dir / program).write_text(f'#!/bin/sh\necho "{program} $*" >> "{log}"\n', encoding="utf-8")
        (bin_dir / program).chmod(0o755)
    image = dockerfile()
    (entrypoint,) = json.loads(image["ENTRYPOINT"][0])
    script = ROOT / PurePosixPath(entrypoint).relative_to(image["WORKDIR"][0])  # the image holds the repository there
    subprocess.run([script, *command], env=env | {"PATH": f"{bin_dir}:/usr/bin:/bin"}, cwd=tmp_path, check=True, timeout=30)
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_app_scales_behind_nginx():
    web, nginx = SERVICES["web"], SERVICES["nginx"]
    assert "ports" not in web and web["expose"] == ["8000"]  # `--scale web=3` needs no host port per container
    assert nginx["image"].startswith("nginx:") and nginx["ports"] == ["${HTTP_PORT:-8000}:80"]
    assert nginx["volumes"] == ["./docker/nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    ((_, server),) = directives(nginx_config(ROOT / nginx["volumes"][0].split(":")[0]), "server")  # the file compose mounts
    assert directives(server, "listen") == [(["80"], None)]  # the container port compose publishes
    # The app's address is a variable: nginx looks `web` up at request time, through Docker's DNS,
    # again every 10 seconds, so every replica is reached, however many were started after nginx.
    ((resolver, _),) = directives(server, "resolver")
    assert resolver[0] == "127.0.0.11" and "valid=10s" in resolver[1:]
    ((variable, _),) = directives(server, "set")
    assert variable[0] == "$app"
    app = urlsplit(variable[1])
    assert app.hostname == "web" and [str(app.port)] == web["expose"]
    ((_, location),) = [(args, children) for args, children in directives(server, "location") if args == ["/"]]
    assert directives(location, "proxy_pass") == [(["$app"], None)]
    headers = dict(args for args, _ in directives(location, "proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert environment("web")["TRUSTED_PROXY_COUNT"] == "1"  # nginx appends one address
    for service in ("db", "redis", "web", "nginx"):
        assert "healthcheck" in SERVICES[service], service


def test_migrations_run_once_before_any_app_container(tmp_path):
    assert environment("setup")["RUN_SETUP"] == "1" and environment("web")["RUN_SETUP"] == "0"
    assert SERVICES["web"]["depends_on"]["setup"] == {"condition": "service_completed_successfully"}
    # Each container started as compose starts it: `setup` with its command, `web` with the image's.
    setup = run_entrypoint(tmp_path / "setup", environment("setup"), SERVICES["setup"]["command"])
    assert setup == [
        "python manage.py migrate --noinput",
        "python manage.py load_reference_data",
        "python manage.py load_illustrative_roster --if-absent",  # built on the first start only
    ]
    (gunicorn,) = dockerfile()["CMD"]
    web = run_entrypoint(tmp_path / "web", environment("web"), json.loads(gunicorn))
    assert web == ["gunicorn registry.wsgi --bind 0.0.0.0:8000 --timeout 60 --access-logfile -"]  # the app only
    # A single container started without compose sets itself up first.
    alone = run_entrypoint(tmp_path / "alone", {}, json.loads(gunicorn))
    assert alone == ["python manage.py migrate --noinput", "python manage.py load_reference_data", *web]


def test_the_shared_cache_is_redis_and_bounded():
    assert environment("web")["CACHE_URL"] == "redis://redis:6379/0"
    url = environment("web")["CACHE_URL"]
    assert cache_from_url(url)["BACKEND"] == "counties.caching.redis_backend.RedisCache"
    assert SERVICES[urlsplit(url).hostname]["image"].startswith("redis:")
    program, *options = (interpolate(part) for part in SERVICES["redis"]["command"])
    config = dict(zip(options[::2], options[1::2], strict=True))
    assert program == "redis-server"
    # Bounded, the least recently used entries going first; nothing written to disk.
    assert (config["--maxmemory"], config["--maxmemory-policy"]) == ("256mb", "allkeys-lru")
    assert (config["--save"], config["--appendonly"]) == ("", "no")


def test_the_app_environment_passes_the_deployment_checks():
    env = environment("web")
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr
    assert env["CACHE_MAX_AGE"] == "60" and env["RESPONSE_CACHE"] == "1"
