"""Provinces get short names (新疆 / Xinjiang) for tables and chart labels.

The reference loader writes them from now on (counties.models.naming.PROVINCE_SHORT_NAMES). Existing
databases get them here, so the loader finds them already in place and records them as its own
(a field it never wrote would otherwise count as a staff edit and be left alone). The values are
copied here, not imported, so the migration stays as it was when written.
"""

import django.db.models
from django.db import migrations

import counties.models

SHORT_NAMES = {
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


def fill(apps, schema_editor):
    Province = apps.get_model("counties", "Province")
    for province in Province.objects.filter(code__in=SHORT_NAMES):
        province.short_name_zh, province.short_name_en = SHORT_NAMES[province.code]
        province.save(update_fields=["short_name_zh", "short_name_en"])


def field(label, length, help_text):
    return django.db.models.CharField(
        default="", help_text=help_text, max_length=length, validators=[counties.models.no_control_characters], verbose_name=label
    )


class Migration(migrations.Migration):
    dependencies = [
        ("counties", "0005_import_records_and_history_names"),
    ]

    operations = [
        *[
            migrations.AddField(
                model_name=model,
                name=name,
                field=field(label, length, help_text),
                preserve_default=False,
            )
            for model in ("province", "historicalprovince")
            for name, label, length, help_text in (
                ("short_name_zh", "short Chinese name", 8, "For tables and chart labels: 新疆 for 新疆维吾尔自治区."),
                ("short_name_en", "short English name", 32, "For tables and chart labels: Xinjiang for Xinjiang Uygur Autonomous Region."),
            )
        ],
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
