"""What every registry admin shares: the change form with its reason, optimistic locking and scope,
the import and export with preview and reason, and the search by a unit's codes old and new."""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm, ImportForm, SelectableFieldsExportForm
from simple_history.admin import SimpleHistoryAdmin

from counties.models import (
    CHANGE_REASON_MAX_LENGTH,
    KEY_PATTERN,
)
from counties.models.programme import ADMIN_ADDED_REASON, ADMIN_CHANGED_REASON, in_reader_language
from counties.reads import history, tables
from counties.reads.permissions import may_change_record, scope_note, sees_staff_data_of, write_scope
from counties.reads.places import held_by_place_named
from counties.writes import services
from counties.writes.imports import kept as kept_imports
from counties.writes.imports import uploads
from counties.writes.imports.programme import (
    ADMIN_MAX_ROWS,
    template_rows,
)
from counties.writes.services import delete_record, save_record, save_records


class CheckedAutocompleteSelect(AutocompleteSelect):
    """The admin's autocomplete, which shows a refused form again without the submitted values that
    cannot name a record. Django looks the submitted value up to label the chosen option, so a
    value the key's field cannot hold (`unit=abc`, or a number past its range) raised ValueError or
    OverflowError, a 500, where the field's own error ("select a valid choice") was due."""

    def optgroups(self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None) -> Any:
        remote = self.field.remote_field
        key = remote.model._meta.get_field(remote.field_name)
        return super().optgroups(name, [v for v in value if self._can_name_a_record(key, v)], attr)

    @staticmethod
    def _can_name_a_record(key: Any, value: Any) -> bool:
        try:
            key.run_validators(key.to_python(value))  # the type and, for a number, the database's range
        except ValidationError:
            return False
        return True


class CheckedAutocompleteMixin:
    """Every admin (and inline) with autocomplete fields: they use CheckedAutocompleteSelect."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        model_admin = cast(Any, self)  # mixed into a ModelAdmin or an InlineModelAdmin
        if "widget" not in kwargs and db_field.name in model_admin.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, model_admin.admin_site, using=kwargs.get("using"))
        return cast(Any, super()).formfield_for_foreignkey(db_field, request, **kwargs)


class RegistryForm(forms.ModelForm):
    """Every add and change form: a reason for the history, and no save over someone else's change.

    The reason is required when changing a record (a change replaces a value that had its own
    source, and only the reason says why) and optional when adding one (a new record carries its
    source in its own fields).

    The form carries the record's `updated_at` as it was loaded. The admin reads the record under a
    row lock when the form is posted (RegistryAdmin.get_object), so this check and the save are one
    step: of two saves of the same version posted at the same moment, the second waits for the
    first and is then refused with a message, keeping the user's input. Saving again then
    overwrites knowingly (the hidden version is moved on to the current one).

    It also carries the id of the record's latest history entry as it was loaded, so the refusal
    can say who saved what since (the history does not keep `updated_at`, so the version alone
    cannot find the entry the user's copy came from).
    """

    # The most versions a refusal lists; a record saved more often since is rare and has its history.
    CHANGES_LISTED = 5
    # Fields a loader fills with its own text (`in_reader_language`): shown in the reader's language,
    # and kept as stored when saved unchanged, so that the loader still knows the text for its own.
    LOADER_TEXT_FIELDS = ("source", "source_note", "purpose")

    change_reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": CHANGE_REASON_MAX_LENGTH}),
        validators=[services.check_reason],
        help_text=gettext_lazy("Kept in the record's history with your name."),
    )
    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False, label=gettext_lazy("version when opened"))
    loaded_history = forms.CharField(widget=forms.HiddenInput, required=False, label=gettext_lazy("history entry when opened"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["change_reason"].required = True
            self.fields["change_reason"].help_text = gettext_lazy("Required: kept in the record's history with your name.")
        for name in self.LOADER_TEXT_FIELDS:
            stored = getattr(self.instance, name, None) if name in self.fields else None
            if stored and in_reader_language(stored) != stored:
                self.initial[name] = in_reader_language(stored)
        if self.instance.pk and getattr(self.instance, "updated_at", None):
            self.fields["loaded_version"].initial = self.instance.updated_at.isoformat()
            if not self.is_bound and self.has_history:
                self.fields["loaded_history"].initial = history.latest_version_id(self.model, self.instance.pk)

    @property
    def model(self) -> type[Model]:
        return type(self.instance)  # ModelForm builds or is given an instance of its model

    @property
    def has_history(self) -> bool:
        return hasattr(self.model, "history")

    def clean(self) -> dict[str, Any]:
        super().clean()
        for name in self.LOADER_TEXT_FIELDS:
            stored = getattr(self.instance, name, None) if name in self.fields else None
            if stored and name in self.cleaned_data and self.cleaned_data[name] == in_reader_language(stored):
                self.cleaned_data[name] = stored
        loaded = self.cleaned_data.get("loaded_version")
        # The instance was read under the row lock in this request's transaction: it is current.
        current = getattr(self.instance, "updated_at", None) if self.instance.pk else None
        if loaded and current is not None and current.isoformat() != loaded:
            since = self.cleaned_data.get("loaded_history", "")
            changes = history.changes_since(self.model, self.instance.pk, int(since)) if since.isdigit() and self.has_history else []
            data = cast(QueryDict, self.data).copy()  # the admin binds its forms to request.POST
            data["loaded_version"] = current.isoformat()
            if self.has_history:
                data["loaded_history"] = str(history.latest_version_id(self.model, self.instance.pk))
            self.data = data
            raise ValidationError(self.concurrent_edit_message(current, changes), code="concurrent_edit")
        return self.cleaned_data

    def concurrent_edit_message(self, current: datetime, changes: list[history.Entry]) -> str:
        """Who saved the record since the user opened it, when, and which fields (by their labels, in
        the page's language), so the user knows what to compare before saving again."""

        def when(moment: datetime) -> str:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")

        if not changes:  # no history of those saves, or a form from before the history id was sent
            return _(
                "Someone else saved this record at %(time)s while you were editing it. Your changes were not saved "
                "and are kept below: compare them with the record's history, then save again to overwrite."
            ) % {"time": when(current)}
        saves = []
        for entry in changes[-self.CHANGES_LISTED :]:
            user = entry.record.history_user
            names = {"user": user.get_username() if user is not None else _("someone"), "time": when(entry.record.history_date)}
            if entry.changes:
                fields = _(", ").join(change.label for change in entry.changes)
                saves.append(_("%(user)s changed %(fields)s (at %(time)s)") % {**names, "fields": fields})
            else:  # saved without a change to any field, or the version before it is not in the history
                saves.append(_("%(user)s saved it (at %(time)s)") % names)
        if (earlier := len(changes) - self.CHANGES_LISTED) > 0:
            saves.insert(
                0,
                ngettext("%(count)s earlier save (see the history)", "%(count)s earlier saves (see the history)", earlier)
                % {"count": earlier},
            )
        return _(
            "Someone else saved this record while you were editing it: %(saves)s. Your changes were not saved and are "
            "kept below: compare them with the record's history, then save again to overwrite."
        ) % {"saves": _("; ").join(saves)}


class ReasonConfirmImportForm(ConfirmImportForm):
    """The import's confirmation: the reason goes into the history of every record it writes or removes."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the import"),
        help_text=gettext_lazy("Recorded in the history of every record created, changed or removed, e.g. the notice's number."),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": CHANGE_REASON_MAX_LENGTH}),
        validators=[services.check_reason],
    )


class RegistryImportForm(ImportForm):
    """The import form: CSV or XLSX only, CSV chosen until a file says otherwise (no "---")."""

    def __init__(self, formats: list, resources: list, **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        field = self.fields["format"]
        field.choices = [(str(i), f().get_title()) for i, f in enumerate(formats)]
        field.initial = "0"
        field.help_text = gettext_lazy("Chosen from the file's name when you pick the file.")
        self.fields["import_file"].help_text = gettext_lazy("CSV (UTF-8, as Excel's “CSV UTF-8”) or XLSX, with the template's columns.")

    def clean_import_file(self) -> Any:
        # Refused before it is kept for the confirmation (counties.writes.imports.kept), not after.
        upload = self.cleaned_data["import_file"]
        uploads.check_file_size(upload.size)
        return upload


class RegistryExportForm(SelectableFieldsExportForm):
    """The export's column choices, labelled as the import preview labels them (the field's
    verbose name in the reader's language, with the file's column name)."""

    def __init__(self, formats: list, resources: list, **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        for resource in resources:
            labels = dict(resource().column_labels()) if hasattr(resource, "column_labels") else {}
            for field_name in resource().get_export_order():
                field = resource.fields.get(field_name)
                column = field.column_name if field is not None else field_name
                if label := labels.get(column):
                    self.fields[self.create_boolean_field_name(resource, field_name)].label = f"{label} ({column})"


class DeleteReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the deletion"),
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": CHANGE_REASON_MAX_LENGTH}),
        validators=[services.check_reason],
    )


class RegistryAdmin(CheckedAutocompleteMixin, SimpleHistoryAdmin):
    """History on every record, a reason for every deletion, the provincial rule, no lost edits."""

    form = RegistryForm
    delete_confirmation_template = "admin/counties/delete_confirmation.html"
    object_history_template = "admin/counties/object_history.html"
    object_history_list_template = "admin/counties/object_history_list.html"
    list_per_page = 50

    # -- records named by their code in URLs ----------------------------------------------------

    # The field that names a record in its admin URLs (/admin/counties/unit/130705/change/), and
    # the pattern of its values. Any other value in a URL is taken as the internal id, so links
    # Django builds itself (after adding a record, from a related-record widget) still work.
    natural_key: str | None = None
    natural_key_pattern = KEY_PATTERN

    class Media:
        css = {"all": ["admin_extra/registry_admin.css"]}

    def url_id(self, obj: Any) -> str:
        """What names `obj` (a record or one of its historical versions) in its admin URLs."""
        return str(getattr(obj, self.natural_key) if self.natural_key else getattr(obj, self.opts.pk.attname))

    def resolve_url_id(self, request: HttpRequest, object_id: str) -> str | HttpResponse:
        """The internal id for a URL's record name, or a response that says the code is unknown."""
        code = unquote(object_id)
        if not self.natural_key or not re.fullmatch(self.natural_key_pattern, code):
            return object_id
        lookup = {self.natural_key: code}
        pk = self.model._default_manager.filter(**lookup).values_list("pk", flat=True).first()
        if pk is None:  # a deleted record still has its history
            pk = self.model.history.filter(**lookup).order_by("-history_date").values_list("id", flat=True).first()
        if pk is None:
            return self.unknown_code_response(request, code)
        return quote(str(pk))

    def unknown_code_response(self, request: HttpRequest, code: str) -> HttpResponse:
        messages.warning(
            request,
            _("There is no %(record)s with the code %(code)s in the registry. The list below shows what a search for it finds.")
            % {"record": self.opts.verbose_name, "code": code},
        )
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist", current_app=self.admin_site.name)
        return HttpResponseRedirect(f"{changelist}?{urlencode({'q': code})}")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type:
        changelist: Any = super().get_changelist(request, **kwargs)  # a class chosen at run time
        if not self.natural_key:
            return changelist
        model_admin = self

        class NaturalKeyChangeList(changelist):
            def url_for_result(self, result: Model) -> str:
                return reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=(quote(model_admin.url_id(result)),),
                    current_app=model_admin.admin_site.name,
                )

        return NaturalKeyChangeList

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, obj: Model | None = None, **kwargs: Any) -> Any:
        context["url_id"] = self.url_id(obj) if obj is not None and obj.pk is not None else None
        context["may_see_history"] = obj is not None and self.has_view_history_or_change_history_permission(request, obj)
        note = scope_note(request.user) if obj is not None and not self.has_change_permission(request, obj) else None
        if note:  # why the record is shown read-only: a provincial editor's scope
            messages.info(request, note)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        pk = self.resolve_url_id(request, object_id)
        return pk if isinstance(pk, HttpResponse) else super().change_view(request, pk, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        pk = self.resolve_url_id(request, object_id)
        if isinstance(pk, HttpResponse):
            return pk
        return super().history_view(request, unquote(pk), {**(extra_context or {}), "url_id": unquote(object_id)})

    # -- provincial editors -------------------------------------------------------------------

    # The rule is counties.reads.permissions.WriteScope; it fails closed (a provincial editor without a
    # province changes nothing). The admin asks it on the record as stored (to offer a change) and as
    # submitted (to say why on the form); the services refuse again whatever reaches them.

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and may_change_record(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and may_change_record(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and may_change_record(request.user, obj)

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Shown read-only: nothing is saved, so there is no reason to give (it read "None").
            return [name for name in fields if name not in ("change_reason", "loaded_version", "loaded_history")]
        return fields

    def get_form(self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any) -> type[forms.ModelForm]:
        form: Any = super().get_form(request, obj, change, **kwargs)  # a class built at run time
        scope = write_scope(request.user)
        if scope.unrestricted:
            return form

        class ProvincialForm(form):
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                if self.errors:  # a field in error: the record as submitted is not known
                    return cleaned
                # The record as it would be saved (as the API's serializers build it), judged by
                # the one rule; the service refuses again whatever reaches it.
                submitted = copy.copy(self.instance)
                fields = {f.name for f in submitted._meta.concrete_fields}
                for name, value in cleaned.items():
                    if name in fields:
                        setattr(submitted, name, value)
                refusal = scope.refusal(submitted)
                if refusal is not None:
                    raise ValidationError(refusal, code="out_of_scope")
                return cleaned

        return ProvincialForm

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Model | None:
        """On a save or a deletion, the record is read under a row lock held until the request's
        transaction commits (the admin runs both in one), so the concurrent-edit check in
        RegistryForm and the save cannot be separated by another save."""
        if request.method != "POST" or transaction.get_autocommit():
            return super().get_object(request, object_id, from_field)
        queryset = services.locked(self.get_queryset(request))
        field = queryset.model._meta.pk if from_field is None else queryset.model._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (queryset.model.DoesNotExist, ValidationError, ValueError):
            return None

    @staticmethod
    def history_reason(form: forms.BaseForm, change: bool) -> str:
        return form.cleaned_data.get("change_reason", "").strip() or (ADMIN_CHANGED_REASON if change else ADMIN_ADDED_REASON)

    def save_model(self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool) -> None:
        save_record(obj, user=request.user, reason=self.history_reason(form, change))

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        # Inline rows (a unit's successions) go through the same service, with the record's reason.
        saved = formset.save(commit=False)
        save_records(saved, formset.deleted_objects, user=request.user, reason=self.history_reason(form, change))
        formset.save_m2m()

    # -- deletions need a reason -------------------------------------------------------------

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        pk = self.resolve_url_id(request, object_id)
        if isinstance(pk, HttpResponse):
            return pk
        form = DeleteReasonForm(request.POST or None)
        if request.method == "POST" and not form.is_valid():
            request.POST = QueryDict()  # not confirmed: show the confirmation again, with the error
        return super().delete_view(request, pk, {**(extra_context or {}), "reason_form": form})

    @staticmethod
    def deletion_reason(request: HttpRequest) -> str:
        """The reason the confirmed deletion gave (delete_view has refused one without it)."""
        form = DeleteReasonForm(request.POST)
        return form.cleaned_data["reason"] if form.is_valid() else ""

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        delete_record(obj, user=request.user, reason=self.deletion_reason(request))

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletion has no reason to record
        return actions

    # -- the record as it was ---------------------------------------------------------------

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/as-of/", self.admin_site.admin_view(self.as_of_view), name="{}_{}_as_of".format(*info)),
            *super().get_urls(),
        ]

    def has_view_history_or_change_history_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Who changed a record and why is staff data: the History and version pages show it only to
        # an account that sees that province's (the change log's rule, counties.reads.permissions).
        return super().has_view_history_or_change_history_permission(request, obj) and (
            obj is None or sees_staff_data_of(request.user, obj)
        )

    def set_history_delta_changes(self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True) -> None:
        """The History page's changes, in field labels and values in words (counties.reads.history)."""
        for entry in history.describe(self.model, list(historical_records)):
            entry.record.entry = entry

    def history_form_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None) -> HttpResponse:
        """An earlier version of the record, read-only: its values in words and what it changed.
        There is nothing to submit: history is neither edited nor reverted through the admin."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        pk = self.resolve_url_id(request, object_id)
        if isinstance(pk, HttpResponse):
            return pk
        if not str(version_id).isdigit():
            raise PermissionDenied
        record = get_object_or_404(self.model.history.select_related("history_user"), id=unquote(pk), history_id=version_id)
        if not self.has_view_history_or_change_history_permission(request, record.instance):
            raise PermissionDenied
        entry = history.describe(self.model, [record], with_values=True)[0]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "entry": entry,
            "url_id": unquote(object_id),
            "title": _("%(object)s: the version of %(date)s")
            % {"object": entry.label, "date": date_format(timezone.localtime(record.history_date), "DATETIME_FORMAT")},
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/counties/object_history_version.html", context)

    def as_of_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        pk = self.resolve_url_id(request, object_id)
        if isinstance(pk, HttpResponse):
            return pk
        obj = self.get_object(request, unquote(pk))
        if obj is None or not self.has_view_history_or_change_history_permission(request, obj):
            raise PermissionDenied
        try:
            day = parse_date(request.GET.get("date", "") or "")
        except ValueError:  # well formed but not a date, e.g. 2020-02-30
            day = None
            messages.error(request, _("%(date)s is not a date; give one as YYYY-MM-DD.") % {"date": request.GET["date"]})
        state, fields = None, []
        if day is not None:
            moment = timezone.make_aware(datetime.combine(day, time.max))
            versions = history.history_model(self.model).objects.filter(id=obj.pk, history_date__lte=moment)
            state = versions.order_by("-history_date").first()
            if state is not None and state.history_type != "-":
                fields = history.describe(self.model, [state], with_values=True)[0].values
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "object": obj,
            "date": day,
            "state": state,
            "reason": history.reason_in_words(state.history_change_reason) if state is not None else "—",
            "fields": fields,
            "title": _("%(object)s as of a date") % {"object": obj},
        }
        return TemplateResponse(request, "admin/counties/as_of.html", context)


class ImportExportRegistryAdmin(ImportExportModelAdmin, RegistryAdmin):
    """Imports and exports through the shared resources, in the two documented formats only.

    Files are read with the upload checks (`counties.writes.imports.uploads`) and written by the registry's one
    table writer (`counties.reads.tables`: BOM, formula neutralising, no XML-illegal characters).
    """

    formats = uploads.ADMIN_FORMATS
    import_formats = uploads.ADMIN_FORMATS
    export_formats = uploads.ADMIN_FORMATS
    template_name: str = ""
    import_export_change_list_template = "admin/counties/change_list_import_export.html"
    import_template_name = "admin/counties/import.html"

    confirm_form_class = ReasonConfirmImportForm
    import_form_class = RegistryImportForm
    export_form_class = RegistryExportForm

    class Media:
        css = {"all": ["admin_extra/registry_admin.css", "admin_extra/import.css"]}

    # Every record an import writes, changes or removes has a history entry with the user and the
    # reason; import-export's own log entries would need the records kept in memory per row.
    skip_admin_log = True

    def has_import_permission(self, request: HttpRequest) -> bool:
        return super().has_import_permission(request) and may_change_record(request.user)

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        reason = form.cleaned_data.get("reason", "") if form is not None and hasattr(form, "cleaned_data") else ""
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "user": request.user,
            "reason": reason,
            "max_rows": ADMIN_MAX_ROWS,
            "html_diff": True,  # the preview shows each row's changes
        }

    # -- the file is kept when a row is in error ------------------------------------------------

    # The last file read on the import page is kept in import-export's temporary storage (as the
    # confirmation step already keeps it) and named in the session, so the officer can check it
    # again (after correcting the registry) without choosing it again; choosing a corrected file
    # replaces it. Only the session that uploaded a file can read it back.

    def kept_file_key(self) -> str:
        return f"registry-import-kept:{self.opts.label_lower}"

    def kept_storage(self, name: str) -> Any:
        return self.get_tmp_storage_class()(name=name, read_mode="rb", **self.get_tmp_storage_class_kwargs())

    def forget_kept_file(self, request: HttpRequest, *, remove: bool = True, name: str | None = None) -> None:
        """Stop naming the kept file in the session (only if it is `name`, when given), and remove it."""
        if name is not None and (request.session.get(self.kept_file_key()) or {}).get("name") != name:
            return
        kept = request.session.pop(self.kept_file_key(), None)
        if kept and remove:
            with contextlib.suppress(OSError):
                self.kept_storage(kept["name"]).remove()

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        kept = request.session.get(self.kept_file_key())
        if request.method == "POST" and request.POST.get("use_kept") and kept and not request.FILES.get("import_file"):
            try:
                data = self.kept_storage(kept["name"]).read()
            except OSError:
                self.forget_kept_file(request, remove=False)
                messages.warning(
                    request, _("The kept file %(file)s is no longer on the server; choose it again.") % {"file": kept["file_name"]}
                )
                return HttpResponseRedirect(request.path)
            request.FILES["import_file"] = SimpleUploadedFile(kept["file_name"], data)  # as if chosen again
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        if context is None:
            return response
        form = context.get("form")
        upload = form.cleaned_data.get("import_file") if form is not None and form.is_bound and not form.errors else None
        stored = getattr(upload, "tmp_storage_name", None)
        if upload is not None and stored:
            file_format = self.format_title(form.cleaned_data.get("format"))
            kept_imports.bind(
                stored,
                user=request.user,
                session_key=request.session.session_key,
                model=self.opts.label_lower,
                file_format=file_format,
                file_name=upload.name,
            )
            previous = request.session.get(self.kept_file_key())
            if previous and previous["name"] != stored:
                self.forget_kept_file(request)
            request.session[self.kept_file_key()] = {"name": stored, "file_name": upload.name}
        context["kept_file"] = (request.session.get(self.kept_file_key()) or {}).get("file_name")
        context["template_url"] = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template", current_app=self.admin_site.name
        )
        return response

    # -- the confirmation writes once -----------------------------------------------------------

    def format_title(self, index: Any) -> str:
        """The name ("csv", "xlsx") of the import format at a form's `format` index, or "" for none."""
        formats = self.get_import_formats()
        text = str(index if index is not None else "")
        return formats[int(text)]().get_title() if text.isdigit() and int(text) < len(formats) else ""

    def format_named(self, title: str) -> Any:
        return next(f for f in self.get_import_formats() if f().get_title() == title)(encoding=self.from_encoding)

    @method_decorator(require_POST)
    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """Write the previewed file once (`counties.writes.imports.kept.confirm_once`): a second
        confirmation (a double click, a retry after a lost answer, a replay) writes nothing and is
        told which import wrote the file; a key that is missing, expired, tampered with or another
        person's, or a changed format, is told to choose the file again."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        if not confirm_form.is_valid():
            if set(confirm_form.errors) <= {"reason"}:
                return super().process_import(request, **kwargs)  # asks for the reason again
            return self.preview_gone(request)
        if self.get_resource_index(confirm_form) not in range(len(self.get_import_resource_classes(request))):
            return self.preview_gone(request)
        results: list[Any] = []

        def write(kept: Any) -> Any:
            dataset = self.format_named(kept.file_format).create_dataset(bytes(kept.data))
            result = self.process_dataset(dataset, confirm_form, request, file_name=kept.file_name, **kwargs)
            results.append(result)
            if result.has_errors() or result.has_validation_errors() or result.summary is None:
                return None  # nothing written: the file stays confirmable
            return result.summary.import_record

        key = confirm_form.cleaned_data["import_file_name"]
        try:
            kept_imports.confirm_once(
                key,
                user=request.user,
                session_key=request.session.session_key,
                model=self.opts.label_lower,
                file_format=self.format_title(confirm_form.cleaned_data["format"]),
                write=write,
            )
        except kept_imports.PreviewGone:
            return self.preview_gone(request)
        except uploads.UploadRejected as exc:  # read at the preview, refused now: the limits changed since
            return self.preview_gone(request, " ".join(exc.messages))
        except kept_imports.AlreadyImported as exc:
            self.forget_kept_file(request, remove=False, name=key)
            return self.already_imported(request, exc.record)
        result = results[0]
        if not (result.has_errors() or result.has_validation_errors()):
            self.forget_kept_file(request, remove=False, name=key)  # written: nothing left to check again
        return self.process_result(result, request)

    def import_outcome(self, request: HttpRequest, context: dict[str, Any], status: int) -> HttpResponse:
        info = self.opts.app_label, self.opts.model_name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import"),
            "import_url": reverse("admin:{}_{}_import".format(*info), current_app=self.admin_site.name),
            "changelist_url": reverse("admin:{}_{}_changelist".format(*info), current_app=self.admin_site.name),
            **context,
        }
        return TemplateResponse(request, "admin/counties/import_outcome.html", context, status=status)

    def preview_gone(self, request: HttpRequest, reason: str = "") -> HttpResponse:
        return self.import_outcome(request, {"gone": kept_imports.PREVIEW_GONE, "reason": reason}, status=400)

    def already_imported(self, request: HttpRequest, record: Any) -> HttpResponse:
        dashboard = reverse("admin:dashboard", current_app=self.admin_site.name)
        link = f"{dashboard}#import-{record.pk}" if record is not None else dashboard
        return self.import_outcome(request, {"record": record, "record_url": link}, status=200)

    def add_success_message(self, result: Any, request: HttpRequest) -> None:
        """The counts of what was written, removals included (not the rows the file held)."""
        summary = result.summary
        counts = {
            "records": self.model._meta.verbose_name_plural,
            "created": summary.created,
            "changed": summary.changed,
            "unchanged": summary.unchanged,
            "removed": summary.removed,
            "funding": summary.removed_funding,
        }
        message = _("Import of %(records)s finished: %(created)s created, %(changed)s changed, %(unchanged)s unchanged.") % counts
        if summary.removed or summary.removed_funding:  # only an official designation import replaces illustrative records
            message += " " + _("%(removed)s illustrative designations removed (%(funding)s funding records with them).") % counts
        messages.success(request, message)

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            # The write was refused (a race with another writer, a link that blocks a removal):
            # nothing was written, and the page says why instead of reporting success.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Import"),
                "opts": self.model._meta,
                "result": result,
                "import_error_display": self.import_error_display,
            }
            return TemplateResponse(request, [self.import_template_name], context)
        return super().process_result(result, request)

    def add_data_read_fail_error_to_form(self, form: forms.Form, e: Exception) -> None:
        if isinstance(e, uploads.UploadRejected):
            form.add_error("import_file", e)  # the reason, as the command line gives it
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def get_export_data(self, file_format: Any, request: HttpRequest, queryset: QuerySet, **kwargs: Any) -> Any:
        # Its keyword arguments reach get_data_for_export, which is not given the format otherwise.
        return super().get_export_data(file_format, request, queryset, export_format=file_format, **kwargs)

    def get_data_for_export(self, request: HttpRequest, queryset: QuerySet, **kwargs: Any) -> Any:
        # django-import-export keeps numbers as numbers only for its own XLSX class; ours is that format too.
        if isinstance(kwargs.pop("export_format", None), uploads.XLSXFormat):
            kwargs["force_native_type"] = True
        return super().get_data_for_export(request, queryset, **kwargs)

    def get_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import-template/", self.admin_site.admin_view(self.template_view), name="{}_{}_import_template".format(*info)),
            *super().get_urls(),
        ]

    def template_view(self, request: HttpRequest) -> HttpResponse:
        """A CSV template: the expected columns and an instruction row that no import accepts."""
        header, *rows = template_rows(self.template_name)
        return tables.download("csv", f"{self.template_name}-template", header, rows)


# -- reference data ---------------------------------------------------------------------------


class UnitSearchMixin(RegistryAdmin):
    """Searching by a code finds the records of the place it names whichever of its codes they are
    held under, as the API's `code` filter does (a poverty status stays on the code listed in 2014,
    宣化县 130721, while staff know the place as 宣化区 130705)."""

    unit_path = ""

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if re.fullmatch(KEY_PATTERN, term):
            # A whole code, not text: searched as text, 632803 (茫崖市) would also find the records
            # of 大柴旦行委, whose registry key X632803 holds it.
            return queryset.filter(held_by_place_named(term, path=self.unit_path)), False
        return super().get_search_results(request, queryset, search_term)
