"""Strings the staff site shows from libraries whose own catalogues have no Chinese for them.

`makemessages` finds them here (gettext_noop marks them without translating), so they are in the
registry's catalogue (locale/), which Django consults before the libraries' own: the libraries'
`gettext` calls then find the Chinese. Each must be the library's msgid exactly.
"""

from django.utils.translation import gettext_noop

LIBRARY_STRINGS = [
    # Django 5.2's admin index: its tables' column headings, read out by screen readers.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django-import-export 4: the export page, and a file with a header but no rows (or none read).
    gettext_noop("Select all"),
    gettext_noop("No valid data to import. Ensure your file has the correct headers or data for import."),
    # django-axes: its models on the admin's index (it has no Chinese catalogue).
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
]
