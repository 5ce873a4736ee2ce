#!/bin/sh
# Container start: bring the schema and the reference data up to date, then run the command given
# (gunicorn by default). Both steps are idempotent, so every start may run them.
set -eu
python manage.py migrate --noinput
python manage.py load_reference_data
if [ "${LOAD_ILLUSTRATIVE_ROSTER:-0}" = "1" ]; then
    python manage.py load_illustrative_roster
fi
exec "$@"
