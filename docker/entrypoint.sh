#!/bin/sh
# Container start: bring the schema and the reference data up to date, then run the command given
# (gunicorn by default). Both steps are idempotent and keep staff edits, so every start may run them.
# The illustrative roster (LOAD_ILLUSTRATIVE_ROSTER=1) is built only into a registry that has none: a
# start never reworks it (`manage.py load_illustrative_roster` does, when asked). With several app
# containers (docker-compose.yml) a one-off `setup` container does this once (RUN_SETUP=1) and the
# app containers skip it (RUN_SETUP=0), so they never run migrations side by side.
set -eu
if [ "${RUN_SETUP:-1}" = "1" ]; then
    python manage.py migrate --noinput
    python manage.py load_reference_data
    if [ "${LOAD_ILLUSTRATIVE_ROSTER:-0}" = "1" ]; then
        python manage.py load_illustrative_roster --if-absent
    fi
fi
exec "$@"
