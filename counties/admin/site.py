"""The staff site: the index in the order a data officer works, the change log across every record,
and the data officers' dashboard.

Installed as Django's default admin site by `counties.apps.RegistryAdminConfig`, so every
`admin.register` in the project lands here.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import RedirectView

from counties.models import CHANGE_REASON_MAX_LENGTH, Designation, Province, SourceKind
from counties.reads import dashboard, history
from counties.reads.permissions import scope_note, write_scope

# The index, grouped and ordered by what a data officer uses most; anything not named here comes
# last in its app. Names are the models' class names.
INDEX_GROUPS: list[tuple[Any, list[str]]] = [
    (
        gettext_lazy("Records kept by data officers"),
        ["Designation", "FundingAllocation", "Assessment", "IndicatorValue", "PovertyStatus", "Pairing"],
    ),
    (
        gettext_lazy("Reference data"),
        ["Unit", "UnitSuccession", "Batch", "Province", "Prefecture", "Indicator", "ProgrammeFact", "PublishedProvinceCount"],
    ),
    (gettext_lazy("Accounts and access"), ["StaffProfile", "Role", "ApiToken"]),
]

# Apps whose name Django shows as their label ("AXES"): named for what a data officer finds there.
OTHER_APP_NAMES = {"axes": gettext_lazy("Sign-in lock-outs")}

CHANGE_LOG_PAGE_SIZE = 50


class ChangeLogForm(forms.Form):
    """The change log's filters; every one optional, every value checked."""

    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False, label=gettext_lazy("changed by"))
    since = forms.DateField(required=False, label=gettext_lazy("from"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label=gettext_lazy("to"), widget=forms.DateInput(attrs={"type": "date"}))
    model = forms.ChoiceField(required=False, label=gettext_lazy("records"))
    province = forms.ModelChoiceField(queryset=Province.objects.none(), required=False, label=gettext_lazy("province"))
    reason = forms.CharField(required=False, max_length=CHANGE_REASON_MAX_LENGTH, label=gettext_lazy("reason contains"))

    def __init__(
        self, *args: Any, models_seen: list[type[models.Model]], provinces: models.QuerySet, editors: models.QuerySet, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.models_seen = {m._meta.label_lower: m for m in models_seen}
        model = cast(forms.ChoiceField, self.fields["model"])  # the fields declared above
        user, province = (cast(forms.ModelChoiceField, self.fields[name]) for name in ("user", "province"))
        model.choices = [("", _("all"))] + [(m._meta.label_lower, m._meta.verbose_name_plural) for m in models_seen]
        user.queryset = editors
        user.empty_label = _("anyone")
        province.queryset = provinces
        province.empty_label = _("all")

    def clean(self) -> dict[str, Any]:
        super().clean()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date %(since)s is after the end date %(until)s.") % {"since": since, "until": until})
        return self.cleaned_data

    def filters(self) -> history.ChangeLogFilter:
        data = self.cleaned_data
        return history.ChangeLogFilter(
            user_id=data["user"].pk if data.get("user") else None,
            since=data.get("since"),
            until=data.get("until"),
            model=self.models_seen.get(data.get("model") or ""),
            province_id=data["province"].pk if data.get("province") else None,
            reason=(data.get("reason") or "").strip(),
        )


class RegistryAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Demonstration county registry — staff")
    site_title = gettext_lazy("Demonstration county registry")
    index_title = gettext_lazy("Records")
    index_template = "admin/counties/index.html"
    # The side navigation takes 300 px of every page; at 1280 px the units list and the import
    # preview need them. The index (and the breadcrumbs) lead to every list.
    enable_nav_sidebar = False

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        # A provincial editor is told on the index which province they may change (or why none).
        return {**super().each_context(request), "write_scope_note": scope_note(request.user)}

    # -- the index --------------------------------------------------------------------------------

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The registry's models in groups, most used first; other apps after them."""
        app_dict = {app["app_label"]: app for app in super().get_app_list(request, app_label)}
        registry = app_dict.pop("counties", None)
        groups = []
        if registry is not None:
            remaining = list(registry["models"])
            for name, object_names in INDEX_GROUPS:
                chosen = sorted(
                    (m for m in remaining if m["object_name"] in object_names), key=lambda m: object_names.index(m["object_name"])
                )
                remaining = [m for m in remaining if m not in chosen]
                if chosen:
                    groups.append({**registry, "name": name, "models": chosen})
            if remaining:
                groups.append({**registry, "models": sorted(remaining, key=lambda m: str(m["name"]))})
        for label, name in OTHER_APP_NAMES.items():
            if label in app_dict:
                app_dict[label]["name"] = name
        others = sorted(app_dict.values(), key=lambda app: str(app["name"]).lower())
        for app in others:
            app["models"].sort(key=lambda m: str(m["name"]))
        return groups + others

    def get_urls(self) -> list:
        return [
            path("changes/", self.admin_view(self.change_log_view), name="change_log"),
            path("dashboard/", self.admin_view(self.dashboard_view), name="dashboard"),
            # Django's address for the groups: they are listed as roles (named in the reader's language).
            path("auth/group/", self.admin_view(RedirectView.as_view(pattern_name=f"{self.name}:counties_role_changelist"))),
            *super().get_urls(),
        ]

    # -- helpers for the two pages ---------------------------------------------------------------

    def may_view(self, request: HttpRequest, model: type[models.Model]) -> bool:
        return self.is_registered(model) and self.get_model_admin(model).has_view_permission(request)

    def object_url(self, model: type[models.Model], obj: Any, view: str = "change") -> str | None:
        """The admin page of a record (or of a historical version's record), by its natural key."""
        if not self.is_registered(model):
            return None
        model_admin = self.get_model_admin(model)
        url_id = model_admin.url_id(obj) if hasattr(model_admin, "url_id") else obj.pk
        try:
            return reverse(f"{self.name}:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[url_id])
        except NoReverseMatch:
            return None

    # -- the change log ---------------------------------------------------------------------------

    def change_log_view(self, request: HttpRequest) -> HttpResponse:
        """Every change to the registry's records, newest first, with filters (NetBox's change log)."""
        models_seen = history.visible_models(lambda m: self.may_view(request, m))
        scope = write_scope(request.user)
        provinces = Province.objects.order_by("code")
        if not scope.unrestricted:
            provinces = provinces.filter(pk=scope.province.pk) if scope.province else provinces.none()
        editors = history.editors_seen(request.user, models_seen)
        form = ChangeLogForm(request.GET or None, models_seen=models_seen, provinces=provinces, editors=editors)
        filters = form.filters() if form.is_bound and form.is_valid() else history.ChangeLogFilter()
        rows = history.change_log(request.user, models_seen, filters)
        paginator = Paginator(rows, CHANGE_LOG_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("p"))
        entries = history.entries_for_rows(list(page.object_list))
        for entry in entries:
            entry.url = None if entry.kind == history.DELETED else self.object_url(entry.model, entry.record)
            entry.history_url = self.object_url(entry.model, entry.record, "history")
        query = request.GET.copy()
        query.pop("p", None)
        context = {
            **self.each_context(request),
            "title": _("Change log"),
            "form": form,
            "page": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "entries": entries,
            "query": query.urlencode(),
            "scope_province": scope.province if not scope.unrestricted else None,
            "scope_nowhere": scope.writes_nothing,
        }
        return TemplateResponse(request, "admin/counties/change_log.html", context)

    # -- the dashboard ----------------------------------------------------------------------------

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """What a data officer checks first: how much is official, what is still illustrative,
        what was imported lately."""
        kinds = []
        for row in dashboard.records_by_source_kind():
            if not self.may_view(request, row.model):
                continue
            changelist = self.object_list_url(row.model)
            row.links = [
                (kind, label, n, f"{changelist}?source_kind__exact={kind}" if changelist else None) for kind, label, n in row.counts
            ]
            row.url = changelist
            kinds.append(row)
        designations = self.object_list_url(Designation)
        batches: list[Any] = list(dashboard.batches_with_illustrative_records())  # given their link below
        for batch in batches:
            batch.url = f"{designations}?batch__id__exact={batch.pk}&source_kind__exact={SourceKind.ILLUSTRATIVE}" if designations else None
        imports: list[Any] = dashboard.recent_imports(request.user)  # given their records' name and link below
        for record in imports:
            model = record.model_class
            record.verbose_name = model._meta.verbose_name_plural if model else record.model
            record.url = self.object_list_url(model) if model else None
        context = {
            **self.each_context(request),
            "title": _("Data officer's dashboard"),
            "kinds": kinds,
            "kind_labels": [kind.label for kind in SourceKind],
            "batches": batches,
            "imports": imports,
        }
        return TemplateResponse(request, "admin/counties/dashboard.html", context)

    def object_list_url(self, model: type[models.Model]) -> str | None:
        if not self.is_registered(model):
            return None
        return reverse(f"{self.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
