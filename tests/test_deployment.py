"""docker-compose.yml, read against what the app needs (no Docker engine runs in the test suite)."""

import re
from pathlib import Path

import yaml

from .conftest import manage

ROOT = Path(__file__).resolve().parent.parent
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


def test_the_app_scales_behind_nginx():
    web, nginx = SERVICES["web"], SERVICES["nginx"]
    assert "ports" not in web and web["expose"] == ["8000"]  # `--scale web=3` needs no host port per container
    assert nginx["image"].startswith("nginx:") and nginx["ports"] == ["${HTTP_PORT:-8000}:80"]
    assert nginx["volumes"] == ["./docker/nginx.conf:/etc/nginx/conf.d/default.conf:ro"]
    config = (ROOT / "docker" / "nginx.conf").read_text(encoding="utf-8")
    assert "set $app http://web:8000;" in config and "proxy_pass $app;" in config  # re-resolved: every replica
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in config
    assert environment("web")["TRUSTED_PROXY_COUNT"] == "1"  # nginx appends one address
    for service in ("db", "redis", "web", "nginx"):
        assert "healthcheck" in SERVICES[service], service


def test_migrations_run_once_before_any_app_container():
    assert environment("setup")["RUN_SETUP"] == "1" and environment("web")["RUN_SETUP"] == "0"
    assert SERVICES["web"]["depends_on"]["setup"] == {"condition": "service_completed_successfully"}
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text(encoding="utf-8")
    assert 'if [ "${RUN_SETUP:-1}" = "1" ]; then' in entrypoint and "manage.py migrate" in entrypoint


def test_the_shared_cache_is_redis_and_bounded():
    assert environment("web")["CACHE_URL"] == "redis://redis:6379/0"
    command = " ".join(SERVICES["redis"]["command"])
    assert "--maxmemory-policy allkeys-lru" in command


def test_the_app_environment_passes_the_deployment_checks():
    env = environment("web")
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr
    assert env["CACHE_MAX_AGE"] == "60" and env["RESPONSE_CACHE"] == "1"
