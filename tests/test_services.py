"""The write services called directly, with no door in front: the write scope, the replacement
rule, the 832, the change reason and a code in use in its year hold here, so a door or a loader that forgot one could not
break it. Each test fails when the check it names is taken out of the service."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from counties import models
from counties.models.staff import ALL_MODELS
from counties.reads.permissions import write_scope
from counties.writes import services
from counties.writes.services import OutOfScope, PovertyCountiesRefused, ReasonRefused, ReplacementBlocked

from .factories import FundingAllocationFactory, UnitFactory, illustrative, provincial_editor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

HEBEI, HUNAN = "130000", "430000"


def designation_in(province):
    return models.Designation.objects.filter(unit__province__code=province).select_related("unit", "batch").order_by("pk").first()


def official_designation(code, year):
    return models.Designation(
        unit=models.Unit.objects.select_related("province").get(code=code),
        batch=models.Batch.objects.get(year=year, sequence=1),
        source="财建〔2016〕1号",
        source_kind=models.SourceKind.OFFICIAL,
    )


def new_poverty_status(unit):
    return models.PovertyStatus(unit=unit, region="east", listed_name=unit.name_zh, source="test", source_kind="secondary")


# -- the write scope -------------------------------------------------------------------------------


def test_a_provincial_editor_saves_their_own_provinces_record_and_no_other():
    editor = provincial_editor()
    hebei, hunan = designation_in(HEBEI), designation_in(HUNAN)
    hebei.name_as_reported = "冀"
    services.save_record(hebei, user=editor, reason="checked")  # their own: written
    stored, versions = hunan.name_as_reported, hunan.history.count()
    hunan.name_as_reported = "湘"
    with pytest.raises(OutOfScope, match=re.escape(f"You may change records of 河北省 only; {hunan} is not one of them.")):
        services.save_record(hunan, user=editor, reason="checked")
    hunan.refresh_from_db()
    assert (hunan.name_as_reported, hunan.history.count()) == (stored, versions)
    assert models.Designation.objects.get(pk=hebei.pk).name_as_reported == "冀"


def test_moving_another_provinces_record_into_ones_own_is_a_change_of_it():
    editor = provincial_editor()
    hunan = designation_in(HUNAN)
    hunan.unit = models.Unit.objects.get(code="130102")  # as saved, a Hebei record
    with pytest.raises(OutOfScope):
        services.save_record(hunan, user=editor, reason="moved")
    with pytest.raises(OutOfScope):
        services.write_records(models.Designation, [], [hunan], fields=["unit"], user=editor, reason="moved")
    assert models.Designation.objects.get(pk=hunan.pk).unit.province.code == HUNAN


def test_a_provincial_editor_deletes_and_creates_in_their_province_only():
    editor = provincial_editor()
    hunan = models.Designation.objects.filter(unit__province__code=HUNAN, funding__isnull=True).first()
    with pytest.raises(OutOfScope):
        services.delete_record(hunan, user=editor, reason="duplicate")
    created = official_designation("110101", 2018)
    with pytest.raises(OutOfScope):
        services.write_records(models.Designation, [created], [], fields=[], user=editor, reason="notice")
    assert models.Designation.objects.filter(pk=hunan.pk).exists()
    assert not models.Designation.objects.filter(unit__code="110101", batch__year=2018).exists()


def test_a_replacement_never_removes_another_provinces_records():
    """The cells a write replaces come from its official records, changed or not: an official record
    of another province in a Hebei editor's write must not empty that province's cell."""
    cell = illustrative(batch__year=2016).exclude(unit__province__code=HEBEI).select_related("unit__province").first()
    province, before = cell.unit.province, illustrative(batch__year=2016, unit__province=cell.unit.province).count()
    unit = models.Unit.objects.filter(province=province).exclude(designations__batch__year=2016).first()
    official = models.Designation.objects.create(unit=unit, batch=cell.batch, source="doc", source_kind="official")
    with pytest.raises(OutOfScope):
        services.write_records(models.Designation, [], [], official=[official], fields=[], user=provincial_editor(), reason="notice")
    assert illustrative(batch__year=2016, unit__province=province).count() == before
    # The same write by an account of every province replaces the cell.
    summary = services.write_records(models.Designation, [], [], official=[official], fields=[], user=None, reason="notice")
    assert summary.removed == before > 0
    assert not illustrative(batch__year=2016, unit__province=province).exists()


def test_an_editor_without_a_province_writes_nothing():
    nowhere = provincial_editor(province=None, name="nowhere")
    hebei = designation_in(HEBEI)
    for write in (
        lambda: services.save_record(hebei, user=nowhere, reason="checked"),
        lambda: services.delete_record(hebei, user=nowhere, reason="checked"),
        lambda: services.write_records(models.Designation, [], [hebei], fields=["kind"], user=nowhere, reason="checked"),
        lambda: services.remove_funding(models.FundingAllocation.objects.filter(unit__province__code=HEBEI), user=nowhere, reason="x"),
    ):
        with pytest.raises(OutOfScope, match="provincial editor without a province"):
            write()
    assert models.Designation.objects.filter(pk=hebei.pk).exists()


# -- the replacement rule --------------------------------------------------------------------------


def test_official_records_replace_their_cells_illustrative_ones_and_nothing_else():
    cell = illustrative(batch__year=2016, unit__province__code=HEBEI)
    removed = sorted(cell.values_list("pk", flat=True))
    others = illustrative().exclude(pk__in=removed).count()
    kept = models.Designation.objects.exclude(source_kind=models.SourceKind.ILLUSTRATIVE).count()
    created = official_designation("130102", 2016)
    reason = "冀商函〔2016〕12号"
    summary = services.write_records(models.Designation, [created], [], official=[created], fields=[], user=None, reason=reason)
    assert (summary.created, summary.removed, len(removed)) == (1, 6, 6)
    assert not cell.exists()
    assert illustrative().count() == others  # other provinces of 2016, and Hebei in other years, stay
    assert models.Designation.objects.exclude(source_kind=models.SourceKind.ILLUSTRATIVE).count() == kept + 1
    history = models.Designation.history.filter(history_type="-", id__in=removed)
    assert set(history.values_list("history_change_reason", flat=True)) == {reason}


def test_an_illustrative_record_is_refused_in_a_cell_that_has_official_ones():
    created = official_designation("130102", 2016)
    services.write_records(models.Designation, [created], [], official=[created], fields=[], user=None, reason="notice")
    invented = models.Designation(
        unit=models.Unit.objects.get(code="130104"),
        batch=created.batch,
        source="roster",
        source_kind=models.SourceKind.ILLUSTRATIVE,
    )
    with pytest.raises(ReplacementBlocked):
        services.write_records(models.Designation, [invented], [], fields=[], user=None, reason="roster")
    assert not models.Designation.objects.filter(unit__code="130104", batch=created.batch).exists()


def test_a_replacement_stops_at_real_funding_tied_to_an_illustrative_record():
    target = illustrative(batch__year=2016, unit__province__code=HEBEI).order_by("unit__key").first()
    funding = FundingAllocationFactory(unit=target.unit, designation=target, fiscal_year=2016, source_kind="official")
    created = official_designation("130102", 2016)
    with pytest.raises(ReplacementBlocked, match=f"funding record {funding.pk}"):
        services.write_records(models.Designation, [created], [], official=[created], fields=[], user=None, reason="notice")
    assert illustrative(batch__year=2016, unit__province__code=HEBEI).count() == 6
    assert not models.Designation.objects.filter(unit__code="130102", batch__year=2016).exists()


# -- the 832 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["save_record", "write_records"])
def test_there_are_never_more_than_832_poverty_counties(service):
    unit = models.Unit.objects.get(code="110101")  # 东城区: no poverty county
    status = new_poverty_status(unit)
    with pytest.raises(PovertyCountiesRefused, match="All 832 poverty counties are listed"):
        if service == "save_record":
            services.save_record(status, user=None, reason="listed")
        else:
            services.write_records(models.PovertyStatus, [status], [], fields=[], user=None, reason="listed")
    assert models.PovertyStatus.objects.count() == 832
    assert not models.PovertyStatus.objects.filter(unit=unit).exists()


def test_a_place_is_one_poverty_county_whatever_its_code():
    other = models.PovertyStatus.objects.exclude(unit__code="130721").order_by("unit__key").first()
    other.delete()  # 831 listed: only the place rule can refuse what follows
    xuanhua_district = models.Unit.objects.get(code="130705")  # 宣化县 130721 as it became: listed already
    with pytest.raises(PovertyCountiesRefused, match="is the same place as"):
        services.write_records(models.PovertyStatus, [new_poverty_status(xuanhua_district)], [], fields=[], user=None, reason="listed")
    assert models.PovertyStatus.objects.count() == 831
    # A unit that is no poverty county's place takes the free place.
    services.write_records(models.PovertyStatus, [new_poverty_status(other.unit)], [], fields=[], user=None, reason="listed again")
    assert models.PovertyStatus.objects.count() == 832


@pytest.mark.parametrize("service", ["save_record", "write_records"])
def test_a_poverty_status_goes_only_to_a_place_named_in_the_list_of_832(service):
    """The 832 are named, not counted: with a real poverty county's status removed, 正定县 (no poverty
    county) cannot be listed as the 832nd; the county removed can, under a later code of its place."""
    models.PovertyStatus.objects.get(unit__code="520522").delete()  # 黔西县: 831 listed
    zhengding = models.Unit.objects.get(code="130123")

    def write(status):
        if service == "save_record":
            services.save_record(status, user=None, reason="listed")
        else:
            services.write_records(models.PovertyStatus, [status], [], fields=[], user=None, reason="listed")

    with pytest.raises(PovertyCountiesRefused) as refused:
        write(new_poverty_status(zhengding))
    assert str(refused.value) == (
        "正定县 (130123) is not one of the 832 poverty counties: a poverty status can be given only to a place named in the "
        "reference list of 832 (under the code listed, or an earlier or later code of the same place)."
    )
    assert models.PovertyStatus.objects.count() == 831
    # The per-record check every form runs (the admin's, the API's) gives the same words, on the unit.
    assert models.poverty_county_refusal(zhengding.pk) == str(refused.value)
    # 黔西市 520581 is 黔西县 520522 (listed) as it became in 2021: it may hold the status.
    write(new_poverty_status(models.Unit.objects.get(code="520581")))
    assert models.PovertyStatus.objects.count() == 832


def test_the_list_of_832_is_loaded_with_each_county_under_the_code_it_was_listed_with():
    listed = models.ListedPovertyCounty.objects
    assert listed.count() == 832
    assert set(listed.values_list("unit_id", flat=True)) == set(models.PovertyStatus.objects.values_list("unit_id", flat=True))
    assert listed.get(unit__key="X632801").listed_name == "冷湖行委"
    assert not listed.filter(unit__code="130123").exists()


def test_a_2021_designation_names_the_code_in_use_in_2021():
    """黔西县 520522 became 黔西市 520581 in 2021: a 2021 designation is recorded under 520581, and
    one under 520522 is refused with the right code suggested."""
    batch = models.Batch.objects.get(year=2021, sequence=1)
    qianxi_city = models.Designation(
        unit=models.Unit.objects.get(code="520581"), batch=batch, source="黔商务〔2021〕1号", source_kind="official"
    )
    services.save_record(qianxi_city, user=None, reason="notice")
    assert models.Designation.objects.filter(unit__code="520581", batch=batch).exists()
    qianxi_county = models.Designation(
        unit=models.Unit.objects.get(code="520522"), batch=batch, source="黔商务〔2021〕1号", source_kind="official"
    )
    with pytest.raises(services.CodeNotInUse) as refused:
        services.save_record(qianxi_county, user=None, reason="notice")
    assert refused.value.messages == ["code 520522 (黔西县) was retired after 2020; use its successor 520581 (黔西市)"]


# -- the change reason -----------------------------------------------------------------------------


def writes(record):
    """Each write service, writing `record` (a designation with no funding) with a given reason."""
    return {
        "save_record": lambda reason: services.save_record(record, user=None, reason=reason),
        "delete_record": lambda reason: services.delete_record(record, user=None, reason=reason),
        "write_records": lambda reason: services.write_records(models.Designation, [], [record], fields=["kind"], user=None, reason=reason),
        "remove_designations": lambda reason: services.remove_designations(
            models.Designation.objects.filter(pk=record.pk), user=None, reason=reason, illustrative_only=False
        ),
        "delete_unit": lambda reason: services.delete_unit(UnitFactory(), user=None, reason=reason),
    }


@pytest.mark.parametrize("service", ["save_record", "delete_record", "write_records", "remove_designations", "delete_unit"])
@pytest.mark.parametrize(
    ("reason", "code", "message"),
    [
        ("", "reason_required", "A reason is required"),
        ("   ", "reason_required", "A reason is required"),
        ("x" * 101, "reason_too_long", "The reason is 101 characters long; the history keeps at most 100."),
        ("bad\x01reason", "control_character", "Remove the control character U+0001 (at position 4)"),
        ("why\x00not", "control_character", "Remove the control character U+0000 (at position 4)"),
        ("bad\x85reason", "control_character", "Remove the control character U+0085 (at position 4)"),
        ("\u202ereason", "control_character", "Remove the control character U+202E (at position 1)"),
    ],
)
def test_a_write_without_a_reason_the_history_can_keep_is_refused(service, reason, code, message):
    record = models.Designation.objects.filter(funding__isnull=True, source_kind="secondary").first()
    record.kind = "repeat"
    units, versions = models.Unit.objects.count(), models.Designation.history.count()
    with pytest.raises(ReasonRefused) as refused:
        writes(record)[service](reason)
    assert refused.value.code == code
    assert message in " ".join(refused.value.messages)
    assert models.Designation.objects.get(pk=record.pk).kind != "repeat"
    assert (models.Unit.objects.count(), models.Designation.history.count()) == (units + (service == "delete_unit"), versions)


def test_a_reason_of_100_characters_is_kept_whole():
    record = models.Designation.objects.filter(source_kind="secondary").first()
    record.is_old_revolutionary_base = True
    services.save_record(record, user=None, reason="x" * 100)
    assert record.history.latest().history_change_reason == "x" * 100


# -- one list of tracked models --------------------------------------------------------------------


def test_every_tracked_model_gets_its_first_history_entry():
    unit = models.Unit.objects.get(code="130705")
    value = models.IndicatorValue.objects.bulk_create(  # a bulk write records no history
        [
            models.IndicatorValue(
                unit=unit, indicator=models.Indicator.objects.first(), year=2019, value=Decimal(1), source="t", source_kind="official"
            )
        ]
    )[0]
    pairing = models.Pairing.objects.bulk_create(
        [models.Pairing(unit=unit, partner_name="某平台", partner_kind="platform", start_year=2018, source="t", source_kind="official")]
    )[0]
    assert services.record_initial_history("first entry") == 2
    for record in (value, pairing):
        entry = record.history.get()
        assert (entry.history_type, entry.history_change_reason) == ("+", "first entry")


def test_a_unit_that_indicator_values_or_pairings_point_at_is_not_deleted():
    unit, partner = UnitFactory(), UnitFactory()
    models.IndicatorValue.objects.create(
        unit=unit, indicator=models.Indicator.objects.first(), year=2019, value=Decimal(1), source="t", source_kind="official"
    )
    models.Pairing.objects.create(
        unit=models.Unit.objects.get(code="130705"),
        partner_name="甲县",
        partner_kind="county",
        partner_unit=partner,
        start_year=2018,
        source="t",
        source_kind="official",
    )
    with pytest.raises(services.UnitInUse, match=r"\(indicator values: 1\)"):
        services.delete_unit(unit, user=None, reason="entered by mistake")
    with pytest.raises(services.UnitInUse, match=r"\(pairings: 1\)"):
        services.delete_unit(partner, user=None, reason="entered by mistake")
    assert models.Unit.objects.filter(pk__in=[unit.pk, partner.pk]).count() == 2


def test_every_tracked_model_has_its_place_in_the_staff_roles():
    assert sorted(ALL_MODELS) == sorted(model._meta.model_name for model in models.tracked_models())
    assert len(ALL_MODELS) == len(set(ALL_MODELS))


def test_a_token_key_is_minted_by_the_token_itself():
    token = models.ApiToken(user=User.objects.create_user("partner"), name="partner")
    key = token.new_key()
    assert key.startswith(models.ApiToken.KEY_PREFIX) and key[:8] == token.key_prefix
    assert token.key_hash == models.hash_token(key) and key not in (token.key_hash, token.key_prefix)
    assert token.new_key() != key


# -- a code in use in the record's year -----------------------------------------------------------


def test_save_record_refuses_a_code_retired_before_the_batch_and_names_its_successor():
    # 宣化县 130721 became 宣化区 130705 in 2016: a 2018 designation must name 130705.
    with pytest.raises(services.CodeNotInUse) as refused:
        services.save_record(official_designation("130721", 2018), user=None, reason="notice")
    assert "130721" in str(refused.value) and "130705" in str(refused.value)
    assert not models.Designation.objects.filter(unit__code="130721", batch__year=2018).exists()


def test_write_records_refuses_the_whole_set_when_one_code_is_not_in_use_in_its_year():
    before = models.Designation.objects.count()
    good, retired = official_designation("130705", 2018), official_designation("130721", 2018)
    with pytest.raises(services.CodeNotInUse, match=r"130721"):
        services.write_records(models.Designation, [good, retired], [], official=[], fields=[], user=None, reason="notice")
    assert models.Designation.objects.count() == before


def test_funding_names_its_unit_by_the_code_of_its_fiscal_year():
    unit = models.Unit.objects.get(code="130721")
    funding = models.FundingAllocation(
        unit=unit, fiscal_year=2019, level="central", amount=Decimal("1000000.00"), source="test", source_kind="secondary"
    )
    with pytest.raises(services.CodeNotInUse, match=r"130705"):
        services.save_record(funding, user=None, reason="notice")
    funding.fiscal_year = 2015  # still 宣化县 then
    services.save_record(funding, user=None, reason="notice")
    assert models.FundingAllocation.objects.filter(pk=funding.pk, unit=unit).exists()


# -- links stay within one place -------------------------------------------------------------------

SHANXI = "140000"


def illustrative_funding_of(unit, designation):
    return models.FundingAllocation(
        unit=unit,
        designation=designation,
        fiscal_year=designation.batch.year,
        level="central",
        amount=Decimal("5.00"),
        source="roster",
        source_kind=models.SourceKind.ILLUSTRATIVE,
    )


def test_a_funding_record_points_only_at_a_designation_of_its_own_place():
    shanxi = illustrative(batch__year=2016, unit__province__code=SHANXI).select_related("unit", "batch").first()
    hebei_unit = models.Unit.objects.get(code="130102")
    before = models.FundingAllocation.objects.count()
    for write in (
        lambda f: services.save_record(f, user=provincial_editor(), reason="linked"),
        lambda f: services.write_records(models.FundingAllocation, [f], [], fields=[], user=None, reason="linked"),
    ):
        with pytest.raises(services.LinkRefused) as refused:
            write(illustrative_funding_of(hebei_unit, shanxi))
        message = str(refused.value.messages[0])
        assert f"cannot point at {shanxi}" in message and "山西省" in message and "河北省" in message and str(hebei_unit) in message
    assert models.FundingAllocation.objects.count() == before
    # Its own place, under a code it had: 宣化县 130721 became 宣化区 130705.
    xuanhua_county = models.Designation.objects.filter(unit__code="130721").select_related("batch").first()
    funding = illustrative_funding_of(models.Unit.objects.get(code="130705"), xuanhua_county)
    funding.fiscal_year, funding.source_kind = 2016, models.SourceKind.SECONDARY
    services.save_record(funding, user=None, reason="linked")
    assert models.FundingAllocation.objects.filter(pk=funding.pk, designation=xuanhua_county).exists()


def test_a_designation_cannot_move_away_from_the_funding_that_points_at_it():
    funding = (
        models.FundingAllocation.objects.filter(designation__isnull=False, unit__province__code=HEBEI)
        .select_related("designation__unit")
        .first()
    )
    designation = funding.designation
    designation.unit = models.Unit.objects.filter(province__code=SHANXI, last_year__isnull=True).first()
    with pytest.raises(services.LinkRefused, match="cannot point at"):
        services.write_records(models.Designation, [], [designation], fields=["unit"], user=None, reason="moved")
    assert models.Designation.objects.get(pk=designation.pk).unit_id == funding.unit_id


def test_an_assessments_conditional_funding_is_of_its_own_place():
    designation = illustrative(batch__year=2016, unit__province__code=HEBEI).first()
    elsewhere = models.FundingAllocation.objects.filter(
        unit__province__code=SHANXI, designation__isnull=True
    ).first() or FundingAllocationFactory(unit=models.Unit.objects.filter(province__code=SHANXI).first(), fiscal_year=2016)
    assessment = models.Assessment(
        designation=designation, year=2018, result="pending", conditional_funding=elsewhere, source="s", source_kind="secondary"
    )
    with pytest.raises(services.LinkRefused, match="cannot point at"):
        services.save_record(assessment, user=None, reason="assessed")
    assert not models.Assessment.objects.filter(designation=designation).exists()


@pytest.mark.parametrize("user", ["shanxi editor", "everywhere"])
def test_a_replacement_never_removes_another_places_funding_linked_to_its_cell(user):
    """A link made before the place rule (a Hebei record pointing at a Shanxi illustrative
    designation) stops the Shanxi cell's replacement: removing the designation would remove the
    Hebei record with it."""
    shanxi = illustrative(batch__year=2016, unit__province__code=SHANXI).select_related("unit", "batch").first()
    crossing = models.FundingAllocation.objects.create(
        unit=models.Unit.objects.get(code="130102"),
        designation=shanxi,
        fiscal_year=2016,
        level="central",
        amount=Decimal(5),
        source="roster",
        source_kind=models.SourceKind.ILLUSTRATIVE,
    )
    cell = illustrative(batch__year=2016, unit__province__code=SHANXI).count()
    unit = models.Unit.objects.filter(province__code=SHANXI, last_year__isnull=True).exclude(designations__batch__year=2016).first()
    created = models.Designation(unit=unit, batch=shanxi.batch, source="晋财建〔2016〕1号", source_kind="official")
    editor = provincial_editor(SHANXI, "shanxi") if user == "shanxi editor" else None
    with pytest.raises(ReplacementBlocked, match=re.escape(f"cannot point at {shanxi}")):
        services.write_records(models.Designation, [created], [], official=[created], fields=[], user=editor, reason="notice")
    assert models.FundingAllocation.objects.filter(pk=crossing.pk).exists()
    assert illustrative(batch__year=2016, unit__province__code=SHANXI).count() == cell


def test_the_scopes_words_come_from_one_home():
    """What the admin's index and 403 page, an import's row and the services say of a provincial
    editor's scope is built by `WriteScope` (counties/reads/permissions.py)."""
    scope = write_scope(provincial_editor())
    beijing = official_designation("110101", 2018)
    assert scope.note() == "Your account may change records of 河北省 only."
    assert scope.refusal(beijing) == f"You may change records of 河北省 only; {beijing} is not one of them."
    assert scope.row_refusal(beijing) == "110101 is in 北京市; you may import records of 河北省 only"
    hebei = designation_in(HEBEI)
    assert scope.row_refusal(hebei) is None
    assert (
        scope.row_refusal(hebei, beijing.unit.province_id) == f"id {hebei.pk} is in another province; you may import records of 河北省 only"
    )
    nowhere = write_scope(provincial_editor(province=None, name="nowhere"))
    assert nowhere.note().startswith("Your staff profile names no province")
    assert (
        nowhere.refusal(hebei)
        == nowhere.row_refusal(hebei)
        == "Your account is a provincial editor without a province: ask an administrator to set it."
    )
    assert write_scope(None).note() is None and write_scope(None).row_refusal(beijing) is None
