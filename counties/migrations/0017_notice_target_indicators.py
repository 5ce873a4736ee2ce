from django.db import migrations

# The indicators the 2018 and 2019 notices' targets are judged on that the catalogue did not have
# (counties.models.targets.NOTICE_TARGETS). Frozen here, as a migration must be; get_or_create never
# overwrites an edit staff made in the admin.
INDICATORS = [
    # code, name_zh, name_en, unit_zh, unit_en, higher_is_better, position, notes
    (
        "funds_agri_upward_share",
        "中央财政资金用于农产品上行的比例",
        "Share of the central funds spent on selling farm products online",
        "%",
        "%",
        True,
        140,
        "2018 notice: at least 50%.",
    ),
    (
        "funds_service_centre_share",
        "中央财政资金用于县级公共服务中心的比例",
        "Share of the central funds spent on the county public service centre",
        "%",
        "%",
        False,
        150,
        "2018 notice: at most 15%.",
    ),
    (
        "administrative_villages",
        "行政村总数",
        "Administrative villages",
        "个",
        "villages",
        True,
        160,
        "Denominator of village coverage (2018 notice: about 50%; 2019 notice: 80% by the end of 2020).",
    ),
]


def seed(apps, schema_editor):
    Indicator = apps.get_model("counties", "Indicator")
    for code, zh, en, unit_zh, unit_en, higher, position, notes in INDICATORS:
        Indicator.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "unit_zh": unit_zh,
                "unit_en": unit_en,
                "higher_is_better": higher,
                "rule": "none",
                "position": position,
                "notes": notes,
            },
        )


def unseed(apps, schema_editor):
    Indicator = apps.get_model("counties", "Indicator")
    Indicator.objects.filter(code__in=[row[0] for row in INDICATORS], values__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("counties", "0016_codes_to_2024_and_the_832_named"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
