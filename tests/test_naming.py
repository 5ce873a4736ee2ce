import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from counties.models import naming
from counties.models.naming import english_name, pinyin_name, search_key, unreviewed_polyphones

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize(
    ("chinese", "english", "pinyin"),
    [
        ("宣化区", "Xuanhua District", "Xuanhua Qu"),
        ("西安市", "Xi'an City", "Xi'an Shi"),
        ("绿春县", "Lüchun County", "Lüchun Xian"),
        ("积石山保安族东乡族撒拉族自治县", "Jishishan Bonan, Dongxiang and Salar Autonomous County", None),
        ("莫力达瓦达斡尔族自治旗", "Molidawa Daur Autonomous Banner", None),
        ("冷湖行委", "Lenghu Administrative Committee", "Lenghu Xingwei"),
        ("神农架林区", "Shennongjia Forestry District", None),
        ("长阳土家族自治县", "Changyang Tujia Autonomous County", None),
        ("长治县", "Changzhi County", None),
        ("长子县", "Zhangzi County", "Zhangzi Xian"),
        ("朝阳县", "Chaoyang County", "Chaoyang Xian"),
        # The five the issue found wrong: 什 shí, 勒 lè, 都 dū in place names.
        ("乌什县", "Wushi County", "Wushi Xian"),
        ("阿图什市", "Artux City", "Atushi Shi"),  # seat of Kizilsu: its official romanisation in English
        ("库尔勒市", "Korla City", "Ku'erle Shi"),  # seat of Bayingolin: Korla in English, Kù'ěrlè in pinyin
        ("武都区", "Wudu District", "Wudu Qu"),
        ("都兰县", "Dulan County", "Dulan Xian"),
        # Polyphones whose reading is particular to the place.
        ("乐亭县", "Laoting County", "Laoting Xian"),
        ("乐清市", "Yueqing City", "Yueqing Shi"),
        ("南乐县", "Nanle County", "Nanle Xian"),
        ("民乐县", "Minle County", "Minle Xian"),
        ("单县", "Shan County", "Shan Xian"),
        ("六安市", "Lu'an City", "Lu'an Shi"),
        ("六合区", "Luhe District", "Luhe Qu"),
        ("六枝特区", "Liuzhi Special District", "Liuzhi Tequ"),
        ("番禺区", "Panyu District", "Panyu Qu"),
        ("莎车县", "Shache County", "Shache Xian"),
        ("蚌埠市", "Bengbu City", "Bengbu Shi"),
        ("厦门市", "Xiamen City", "Xiamen Shi"),
        ("洪洞县", "Hongtong County", "Hongtong Xian"),
        ("行唐县", "Xingtang County", "Xingtang Xian"),
        ("闵行区", "Minhang District", "Minhang Qu"),
        ("会理县", "Huili County", "Huili Xian"),
        ("铅山县", "Yanshan County", "Yanshan Xian"),
        ("尉犁县", "Yuli County", "Yuli Xian"),
        ("尉氏县", "Weishi County", "Weishi Xian"),
        ("覃塘区", "Qintang District", "Qintang Qu"),
        ("浚县", "Xun County", "Xun Xian"),
        ("繁峙县", "Fanshi County", "Fanshi Xian"),
        ("穆棱市", "Muling City", "Muling Shi"),
        ("绥棱县", "Suileng County", "Suileng Xian"),
        ("龙圩区", "Longxu District", "Longxu Qu"),
        ("涡阳县", "Guoyang County", "Guoyang Xian"),
        ("召陵区", "Shaoling District", "Shaoling Qu"),
        ("什邡市", "Shifang City", "Shifang Shi"),
        ("称多县", "Chenduo County", "Chenduo Xian"),
        ("筠连县", "Junlian County", "Junlian Xian"),
        ("马尾区", "Mawei District", "Mawei Qu"),
        ("吴堡县", "Wubu County", "Wubu Xian"),
        ("中牟县", "Zhongmou County", "Zhongmou Xian"),
        ("漯河市", "Luohe City", "Luohe Shi"),
        # Exonyms: the official romanisation of a minority-language name, in English only.
        ("和田县", "Hotan County", "Hetian Xian"),
        ("拉萨市", "Lhasa City", "Lasa Shi"),
        ("呼和浩特市", "Hohhot City", "Huhehaote Shi"),
        ("乌鲁木齐市", "Urumqi City", "Wulumuqi Shi"),
        ("巴音郭楞蒙古自治州", "Bayingolin Mongol Autonomous Prefecture", None),
        ("喀什市", "Kashi City", "Kashi Shi"),  # official in pinyin
    ],
)
def test_generated_names(chinese, english, pinyin):
    assert english_name(chinese) == english
    if pinyin:
        assert pinyin_name(chinese) == pinyin


def reference_names() -> set[str]:
    names = set()
    with (DATA / "counties_2014_2020.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names.update(n for n in (row["name"], row["prefecture_name"], row["province_name"]) if n)
    with (DATA / "registry_units.csv").open(encoding="utf-8") as handle:
        names.update(row["name_zh"] for row in csv.DictReader(handle))
    # The county-level units the code history adds after 2020 (黔西市, 会理市 ...).
    with (DATA / "admin_divisions_history_1981_2024.csv").open(encoding="utf-8") as handle:
        names.update(row["name"] for row in csv.DictReader(handle) if row["level"] == "county" and int(row["start_year"]) > 2020)
    return names | {zh for zh, _ in naming.PROVINCE_SHORT_NAMES.values()}


def test_every_reference_name_has_a_reviewed_reading():
    names = reference_names()
    assert len(names) > 3300  # 3,052 units' names, the registry's own units, prefectures, provinces
    unreviewed = {name: unreviewed_polyphones(name) for name in names if unreviewed_polyphones(name)}
    assert unreviewed == {}
    for name in names:
        syllables = naming.pinyin_syllables(name)
        assert len(syllables) == len(name) and all((s.isalpha() and s.isascii()) or "ü" in s for s in syllables), name


def test_the_reading_table_is_one_row_per_reference_name_with_a_source():
    readings = naming.place_readings()
    names = reference_names()
    assert set(readings) <= names  # no stray rows
    assert all(r.source for r in readings.values())
    assert readings["库尔勒市"].name_en == "Korla" and readings["库尔勒市"].syllables == ("ku", "er", "le", "shi")


def test_an_unlisted_name_falls_back_on_the_place_name_readings():
    # A unit staff might add: 都 dū, 什 shí, 勒 lè and 长 cháng without a row of its own.
    assert pinyin_name("新都什勒长区") == "Xindushilechang Qu"
    assert unreviewed_polyphones("新乐桥区") == "乐"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Wǔdū", "wudu"),
        ("wu du", "wudu"),
        ("WUDU", "wudu"),
        ("Xi'an", "xian"),
        ("Xi’an", "xian"),
        ("Lǚliáng", "luliang"),
        ("lvliang", "luliang"),
    ],
)
def test_search_key_folds_tones_apostrophes_spaces_and_case(typed, key):
    assert search_key(typed) == key


def test_check_place_readings_lists_the_polyphone_names_and_finds_none_unreviewed():
    out = io.StringIO()
    call_command("check_place_readings", stdout=out)
    text = out.getvalue()
    assert "乌什县\twu shi xian\tWushi County\t" in text
    assert "0 with an unreviewed polyphone; 0 disagreeing with CC-CEDICT" in text


def test_check_place_readings_reports_a_disagreement_the_table_does_not_explain(tmp_path):
    cedict = tmp_path / "cedict.txt"
    entries = ["武都 武都 [Wu3 dou1] /a wrong entry/", "乌什 乌什 [Wu1 shi2] /Uqturpan/", "麦盖提 麦盖提 [Mai4 ge3 ti2] /Makit/"]
    cedict.write_text("# a CC-CEDICT extract\n" + "\n".join(entries) + "\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="unreviewed or unexplained"):
        call_command("check_place_readings", "--cedict", str(cedict), stdout=out)
    text = out.getvalue()
    assert "武都区: wu du qu; CC-CEDICT wu dou; NOT EXPLAINED" in text
    assert "麦盖提县: mai gai ti xian; CC-CEDICT mai ge ti; reviewed: Maigaiti" in text
    assert "乌什" not in text.split("disagreeing with CC-CEDICT")[1]  # agrees
