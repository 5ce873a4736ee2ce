"""The registry's data model.

Three ideas carry the domain (see DESIGN.md in the shared brief):

* A `Unit` is one county-level division *code* (GB/T 2260) as it existed; a retired code stays a
  unit of its own, linked to what replaced it by `UnitSuccession`. A designation is recorded
  against the unit as it was when designated and still counts for the same place after a code
  change, through `Unit.current` and the `UnitLineage` closure.
* Batch entries (`Designation` rows) and distinct counties are different numbers.
* Every designation, funding record and figure carries its provenance (`Provenance`).

Integrity lives in the database as CHECK and UNIQUE constraints that hold on SQLite and
PostgreSQL alike, not only in forms.
"""

from counties.models.base import (  # noqa: F401
    AS_OF_MESSAGE,
    CHANGE_REASON_MAX_LENGTH,
    CODE_REGEX,
    CONTROL_CHARACTERS,
    EXIT_YEAR_MESSAGE,
    FIRST_DIVISION_YEAR,
    FIRST_EXIT_YEAR,
    FIRST_PROGRAMME_YEAR,
    KEY_PATTERN,
    LAST_EXIT_YEAR,
    LAST_PLAUSIBLE_YEAR,
    LAST_REFERENCE_YEAR,
    REGISTRY_KEY_PREFIX,
    REGISTRY_KEY_REGEX,
    SOURCE_SEPARATOR,
    UNIT_TYPE_LABELS,
    ParentType,
    Provenance,
    Region,
    RegistryHistory,
    SourceKind,
    TimeStamped,
    UnitType,
    as_of_year,
    code_in_use,
    exit_year_in_range,
    in_use_at_q,
    is_government_url,
    is_url,
    no_control_characters,
    provenance_constraints,
    source_parts,
    sources_separated,
    tracked_models,
)
from counties.models.changes import Change, ChangeAction, ChangePruning  # noqa: F401
from counties.models.programme import (  # noqa: F401
    ALL_POVERTY_COUNTIES_LISTED,
    NOT_IN_THE_LIST,
    POVERTY_COUNTIES,
    SAME_PLACE_LISTED,
    Batch,
    Designation,
    DesignationKind,
    DesignationQuerySet,
    FundingAllocation,
    FundingLevel,
    LifecycleRecord,
    LifecycleStep,
    ListedPovertyCounty,
    Outcome,
    PovertyStatus,
    ProgrammeFact,
    ProgrammeLevel,
    PublishedProvinceCount,
    counts_at_end_of,
    designation_kind_problem,
    outcomes_of,
    poverty_counties_problem,
    poverty_county_refusal,
)
from counties.models.staff import (  # noqa: F401
    ApiToken,
    ApiTokenQuerySet,
    DataVersion,
    ImportRecord,
    KeptImport,
    ReferenceSnapshot,
    Role,
    StaffProfile,
    hash_token,
)
from counties.models.targets import (  # noqa: F401
    FIRST_VALUE_YEAR,
    PASSING_RESULTS,
    Assessment,
    AssessmentResult,
    Indicator,
    IndicatorValue,
    Pairing,
    PartnerKind,
    TargetRule,
    is_poverty_place,
)
from counties.models.units import (  # noqa: F401
    Prefecture,
    Province,
    SuccessionKind,
    Unit,
    UnitLineage,
    UnitQuerySet,
    UnitSuccession,
    code_not_in_use_error,
    lines_apart,
    local_name,
    other_place_link,
    same_line,
)
