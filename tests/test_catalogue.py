"""The Chinese catalogue holds every string the code and the templates translate, each translated, and
nothing else: `makemessages` (Django's, with GNU gettext's xgettext) extracts them from a copy of
the sources into a temporary directory, and its template is compared with
locale/zh_Hans/LC_MESSAGES/django.po. A string makemessages cannot see (gettext inside an f-string)
shows as an entry of the catalogue that nothing uses, and its page stays in English.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = ("counties", "registry", "templates")


def messages(path: Path) -> dict[tuple[str | None, str], object]:
    """(context, msgid) → the message, of a .po or .pot file (the template's header has no plural
    rule yet: Babel is given one to read it)."""
    text = path.read_text(encoding="utf-8").replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=1; plural=0;")
    catalogue = read_po(io.StringIO(text))
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalogue if m.id}


def translated(message: object) -> bool:
    string = message.string  # type: ignore[attr-defined]
    return bool(string) if isinstance(string, str) else all(string)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict:
    """What makemessages finds in the sources, as a .pot's messages."""
    # Fails, never skips, without it: `make test` installs it (as root on Debian) or says how.
    assert shutil.which("xgettext"), "makemessages needs GNU gettext (xgettext): apt-get install gettext"
    work = tmp_path_factory.mktemp("makemessages")
    for name in SOURCES:
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "locale").mkdir()
    from django.test.utils import override_settings

    # makemessages writes into the first locale path and reads the current directory.
    with override_settings(LOCALE_PATHS=[str(work / "locale")]), pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        call_command("makemessages", locale=["zh_Hans"], domain="django", keep_pot=True, verbosity=0)
    return messages(work / "locale" / "django.pot")


def test_every_string_the_code_translates_is_in_the_chinese_catalogue(extracted):
    catalogue = messages(CATALOGUE)
    missing = sorted(key[1] for key in extracted if key not in catalogue)
    untranslated = sorted(key[1] for key in extracted if key in catalogue and not translated(catalogue[key]))
    assert missing == []
    assert untranslated == []


def test_the_chinese_catalogue_holds_no_string_the_code_no_longer_uses(extracted):
    stale = sorted(msgid for key in messages(CATALOGUE) if key not in extracted for msgid in key[1:])
    assert stale == []


def test_makemessages_finds_the_county_lists_strings(extracted):
    """The county list's rows are written in Python (counties/web/templatetags/county_list.py)."""
    found = {msgid for _context, msgid in extracted}
    assert {"No unit matches these filters.", "retired", "illustrative", "as %(name)s %(code)s"} <= found


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_catalogues_source_references_name_files_that_exist(language):
    """A translator follows an entry's `#:` reference to the code that uses it. Line numbers move
    with every edit (makemessages rewrites them); a file that no longer exists sends them nowhere."""
    text = (ROOT / "locale" / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    references = {ref.rsplit(":", 1)[0] for line in text.splitlines() if line.startswith("#: ") for ref in line[3:].split()}
    assert references and sorted(ref for ref in references if not (ROOT / ref).is_file()) == []
