"""WSGI entry point, as gunicorn loads it: `gunicorn registry.wsgi`.

Django sits behind the response cache's front door (counties.caching.front_door), which answers
anonymous reads it has kept without entering Django.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

django_application = get_wsgi_application()

from counties.caching.front_door import FrontCache  # noqa: E402 (needs the settings loaded above)

application = FrontCache(django_application)
