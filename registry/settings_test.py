"""Settings for the test suite: the real settings, fed a test environment.

The suite runs with DEBUG off, as production does, so it needs a private-looking key; plain HTTP
so the test client is not redirected; and fast password hashing.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-only-key-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from registry.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the finders, as in development: the suite does not run collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
