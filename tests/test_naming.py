import pytest

from counties.naming import english_name, pinyin_name


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
        ("六枝特区", "Liuzhi Special District", None),
        ("长阳土家族自治县", "Changyang Tujia Autonomous County", None),
        ("长治县", "Changzhi County", None),
        ("长子县", "Zhangzi County", None),
        ("单县", "Shan County", "Shan Xian"),
        ("朝阳县", "Chaoyang County", None),
    ],
)
def test_generated_names(chinese, english, pinyin):
    assert english_name(chinese) == english
    if pinyin:
        assert pinyin_name(chinese) == pinyin
