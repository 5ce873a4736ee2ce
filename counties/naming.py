"""Romanised names for divisions, generated from the Chinese with pypinyin.

The reference data carries no licensed English names (see data/PROVENANCE.md), so the registry
generates them and marks them as generated; staff can correct any of them in the admin. Province
names are the fixed official forms (Shaanxi, Inner Mongolia, ...), which pinyin alone gets wrong.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

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
}

# Longest suffix first, so 自治县 wins over 县.
SUFFIXES_EN = [
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("自治州", "Autonomous Prefecture"),
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
]

_VOWEL_INITIALS = ("a", "e", "o")


# Place names read some characters in ways pypinyin's general dictionary does not: 长 is cháng at
# the start of a place name (长治, 长沙, 长阳), except in 长子; and a few names have their own reading.
PLACE_READINGS = {
    "长子": ["zhang", "zi"],
    "单县": ["shan", "xian"],
    "朝阳": ["chao", "yang"],
    "洪洞": ["hong", "tong"],
    "浚县": ["xun", "xian"],
    "郫都": ["pi", "du"],
    "繁峙": ["fan", "shi"],
}


def _syllables(chinese: str) -> list[str]:
    syllables = lazy_pinyin(chinese, style=Style.NORMAL, v_to_u=True)
    if len(syllables) != len(chinese):
        return syllables
    for prefix, reading in PLACE_READINGS.items():
        if chinese.startswith(prefix):
            return reading + syllables[len(prefix) :]
    if chinese.startswith("长"):
        syllables[0] = "chang"
    return syllables


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
    return _word(_syllables(chinese))


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
    '长阳土家族自治县' -> 'Changyang Tujia Autonomous County'."""
    stem, suffix = split_suffix(name_zh)
    ethnic: list[str] = []
    if suffix.startswith("Autonomous"):
        stem, ethnic = _split_ethnic(stem)
    # Romanise the whole name so pypinyin's phrase dictionary sees the context of each character.
    syllables = _syllables(name_zh)
    parts = [_word(syllables[: len(stem)]) if len(syllables) == len(name_zh) else pinyin_word(stem)]
    if ethnic:
        parts.append(_join(ethnic))
    if suffix:
        parts.append(suffix)
    return " ".join(parts)


def pinyin_name(name_zh: str) -> str:
    """The pinyin shown beside a Chinese name and searched: '宣化区' -> 'Xuanhua Qu'."""
    stem, suffix = split_suffix(name_zh)
    syllables = _syllables(name_zh)
    if not suffix or len(syllables) != len(name_zh):
        return _word(syllables)
    return f"{_word(syllables[: len(stem)])} {_word(syllables[len(stem) :])}"
