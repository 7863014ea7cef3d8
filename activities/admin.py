"""The editors' admin for the instruments of city diplomacy, and the city admin's
inlines (activities may import cities, never the reverse)."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.results import RowResult

from cities.admin import CityAdmin, CityNameInline
from cities.models import City
from citydiplo.admin import (
    CatalogueAdminForm,
    CatalogueForm,
    HistoryAdmin,
    ReviewAdmin,
    ReviewInline,
    can_publish,
)
from citydiplo.records import ReviewState

from .models import (
    Activity,
    Agreement,
    AgreementParty,
    ConflictingValue,
    Membership,
    Network,
    Source,
    Theme,
    Twinning,
)
from .resources import CityResource, MembershipResource, TwinningResource
from .uploads import SessionStorage, UploadGone, current_session, max_upload_bytes

# A preview shows the counts of the whole file and its first rows: 10,000 rows of
# HTML would take longer to send and render than the import takes to check them.
PREVIEW_ROWS = 100
PREVIEW_INVALID_ROWS = 200


def preview_context(result):
    """What the import page shows of `result`: counts, and the first rows."""
    totals = result.totals
    invalid = list(result.invalid_rows)
    valid = result.valid_rows()
    headers = result.diff_headers
    rows = []
    for row in valid[:PREVIEW_ROWS]:
        if row.diff is not None:  # row by row imports (cities) show a diff
            cells = row.diff
        else:
            values = row.row_values or {}
            cells = [values.get(header, "") for header in headers]
        rows.append((row.import_type, cells))
    return {
        "summary": [
            ("new", totals[RowResult.IMPORT_TYPE_NEW]),
            ("updated", totals[RowResult.IMPORT_TYPE_UPDATE]),
            ("unchanged", totals[RowResult.IMPORT_TYPE_SKIP]),
            ("with errors", len(invalid) + totals[RowResult.IMPORT_TYPE_ERROR]),
        ],
        "preview_rows": rows,
        "more_rows": max(0, len(valid) - PREVIEW_ROWS),
        "shown_invalid_rows": invalid[:PREVIEW_INVALID_ROWS],
        "more_invalid_rows": max(0, len(invalid) - PREVIEW_INVALID_ROWS),
    }


class CatalogueImportMixin(ImportMixin):
    """CSV or XLSX import with preview and confirm; a file with any invalid row
    writes nothing, at the preview or at the confirm step."""

    import_formats = [CSV, XLSX]
    import_error_display = ("message", "row")
    import_template_name = "admin/catalogue_import.html"
    skip_admin_log = False
    # The upload waits in the uploader's session, not the temp folder (uploads.py).
    tmp_storage_class = SessionStorage

    class Media:
        css = {"all": ["css/admin-import.css"]}

    def import_action(self, request, **kwargs):
        token = current_session.set(request.session)
        try:
            response = super().import_action(request, **kwargs)
        finally:
            current_session.reset(token)
        context = getattr(response, "context_data", None) or {}
        if context.get("result") is not None:
            context.update(preview_context(context["result"]))
            context["may_publish"] = can_publish(request.user, self.model)
        return response

    def process_import(self, request, **kwargs):
        token = current_session.set(request.session)
        try:
            return super().process_import(request, **kwargs)
        except UploadGone:
            self.message_user(
                request,
                "That upload is no longer waiting to be imported (it was imported, replaced "
                "by a later upload, or belongs to someone else): upload the file again.",
                messages.ERROR,
            )
            info = self.get_model_info()
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        finally:
            current_session.reset(token)

    def get_import_form_class(self, request):
        base = super().get_import_form_class(request)

        class SizedImportForm(base):
            def clean_import_file(self):
                upload = self.cleaned_data["import_file"]
                limit = max_upload_bytes()
                if upload is not None and upload.size > limit:
                    raise ValidationError(
                        f"This file is {upload.size / 1_048_576:.1f} MB; imports are "
                        f"limited to {limit / 1_048_576:.0f} MB. Split it into smaller files."
                    )
                return upload

        return SizedImportForm

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def add_success_message(self, result, request):
        totals = result.totals
        message = (
            f"Import finished: {totals[RowResult.IMPORT_TYPE_NEW]} new, "
            f"{totals[RowResult.IMPORT_TYPE_UPDATE]} updated and "
            f"{totals[RowResult.IMPORT_TYPE_SKIP]} unchanged "
            f"{self.model._meta.verbose_name_plural}."
        )
        proposed = getattr(result, "proposed_changes", 0)
        if proposed:
            message += (
                f" {proposed} change(s) to published records wait for a chief editor's "
                "review; until then the public sees the published versions."
            )
        self.message_user(request, message, messages.SUCCESS)

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: the file no longer passes the checks. "
                "Upload it again to see why.",
                messages.ERROR,
            )
            info = self.get_model_info()
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        return super().process_result(result, request)


# Sources and themes ------------------------------------------------------------------


class SourceForm(CatalogueAdminForm):
    slug_field = "key"


@admin.register(Source)
class SourceAdmin(HistoryAdmin):
    form = SourceForm
    list_display = ["title", "publisher", "kind", "published_on", "key"]
    list_filter = ["kind"]
    search_fields = ["title", "publisher", "url", "key"]
    prepopulated_fields = {"key": ["title"]}
    autocomplete_fields = ["cities"]
    date_hierarchy = "published_on"
    ordering = ["title"]

    def view_on_site(self, obj):
        return obj.url


@admin.register(Theme)
class ThemeAdmin(HistoryAdmin):
    list_display = ["name", "field", "slug"]
    list_filter = ["field"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["field", "name"]


# Networks and memberships ------------------------------------------------------------


class MembershipInline(ReviewInline, admin.TabularInline):
    model = Membership
    fields = ["city", "role", "category", "joined_year", "left_year", "sources", "review_state"]
    autocomplete_fields = ["city", "sources"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("city")


@admin.register(Network)
class NetworkAdmin(ReviewAdmin):
    list_display = [
        "name",
        "acronym",
        "scope",
        "founded_year",
        "closed_year",
        "headquarters",
        "review_state",
    ]
    list_filter = ["review_state", "scope", "themes"]
    search_fields = ["name", "acronym", "slug", "region_covered"]
    autocomplete_fields = ["founding_place", "headquarters", "merged_into", "themes", "sources"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["headquarters"]
    date_hierarchy = "created_at"
    ordering = ["name"]
    inlines = [MembershipInline]


class ConflictingValueInline(admin.TabularInline):
    """Other values sources give for the record's fields, each with its own sources."""

    model = ConflictingValue
    form = CatalogueForm
    fields = ["field", "value", "sources", "notes"]
    autocomplete_fields = ["sources"]
    extra = 0


@admin.register(Membership)
class MembershipAdmin(CatalogueImportMixin, ReviewAdmin):
    resource_classes = [MembershipResource]
    list_display = ["city", "network", "role", "joined_year", "left_year", "review_state"]
    list_filter = ["review_state", "role", "network"]
    search_fields = ["city__name", "city__slug", "network__name", "network__acronym", "category"]
    autocomplete_fields = ["city", "network", "sources"]
    list_select_related = ["city", "network"]
    date_hierarchy = "created_at"
    ordering = ["network__name", "city__name"]
    inlines = [ConflictingValueInline]


# Agreements and their parties --------------------------------------------------------


class AgreementPartyInline(admin.TabularInline):
    model = AgreementParty
    form = CatalogueForm
    fields = ["city", "action", "year", "date", "sources", "notes"]
    autocomplete_fields = ["city", "sources"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("city")


@admin.register(Agreement)
class AgreementAdmin(ReviewAdmin):
    list_display = ["title", "kind", "signed_year", "status", "network", "review_state"]
    list_filter = ["review_state", "kind", "status", "themes"]
    search_fields = ["title", "slug", "forum", "summary"]
    autocomplete_fields = ["place", "network", "themes", "sources"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["network"]
    date_hierarchy = "created_at"
    ordering = ["-signed_year", "title"]
    inlines = [AgreementPartyInline]


@admin.register(AgreementParty)
class AgreementPartyAdmin(HistoryAdmin):
    list_display = ["city", "action", "agreement", "year", "date"]
    list_filter = ["action"]
    search_fields = ["city__name", "agreement__title"]
    autocomplete_fields = ["agreement", "city", "sources"]
    list_select_related = ["city", "agreement"]
    date_hierarchy = "date"
    ordering = ["agreement__title", "city__name"]
    inlines = [ConflictingValueInline]

    def view_on_site(self, obj):
        return obj.agreement.get_absolute_url() if obj.agreement.is_published else None


# Twinnings ----------------------------------------------------------------------------


class TwinningForm(CatalogueAdminForm):
    def clean(self):
        cleaned = super().clean()
        city_a, city_b = cleaned.get("city_a"), cleaned.get("city_b")
        if city_a and city_b and city_a != city_b:
            existing = (
                Twinning.objects.between(city_a, city_b)
                .exclude(pk=self.instance.pk)
                .select_related("city_a", "city_b")
                .first()
            )
            if existing is not None:
                url = reverse("admin:activities_twinning_change", args=[existing.pk])
                self.add_error(
                    "city_b",
                    ValidationError(
                        format_html(
                            '{} and {} are already twinned: see <a href="{}">{}</a> ({}).',
                            city_a.name,
                            city_b.name,
                            url,
                            existing,
                            existing.get_review_state_display().lower(),
                        ),
                        code="duplicate_pair",
                    ),
                )
        return cleaned


@admin.register(Twinning)
class TwinningAdmin(CatalogueImportMixin, ReviewAdmin):
    form = TwinningForm
    resource_classes = [TwinningResource]
    list_display = ["__str__", "kind", "start_year", "status", "status_year", "review_state"]
    list_filter = ["review_state", "kind", "status", "start_precision"]
    search_fields = [
        "city_a__name",
        "city_b__name",
        "status_act",
        "notes",
    ]
    autocomplete_fields = ["city_a", "city_b", "themes", "sources"]
    list_select_related = ["city_a", "city_b"]
    date_hierarchy = "created_at"
    ordering = ["city_a__name", "city_b__name"]
    inlines = [ConflictingValueInline]


# Other activities ---------------------------------------------------------------------


@admin.register(Activity)
class ActivityAdmin(ReviewAdmin):
    list_display = ["title", "kind", "lead_city", "start_year", "end_year", "review_state"]
    list_filter = ["review_state", "kind", "themes"]
    search_fields = ["title", "slug", "summary", "lead_city__name", "other_partners"]
    autocomplete_fields = ["lead_city", "partner_cities", "place", "themes", "sources"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["lead_city"]
    date_hierarchy = "created_at"
    ordering = ["-start_year", "title"]


# Cities: their sources, twinnings and memberships --------------------------------------


class CitySourcesFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.review_state != ReviewState.PUBLISHED:
            return
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and form.cleaned_data.get("source")
            and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError(
                "A published city cites at least one source: add one, or keep it as a draft."
            )


class CitySourceInline(admin.TabularInline):
    model = Source.cities.through
    formset = CitySourcesFormSet
    autocomplete_fields = ["source"]
    extra = 0
    verbose_name = "source"
    verbose_name_plural = "sources"


class ReadOnlyInline(admin.TabularInline):
    """Rows owned by another admin, shown here with a link to their own page."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TwinningAsAInline(ReadOnlyInline):
    model = Twinning
    fk_name = "city_a"
    fields = ["city_b", "kind", "start_year", "status", "review_state"]
    readonly_fields = fields
    verbose_name = "twinning"
    verbose_name_plural = "twinnings (this city first)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("city_b")


class TwinningAsBInline(ReadOnlyInline):
    model = Twinning
    fk_name = "city_b"
    fields = ["city_a", "kind", "start_year", "status", "review_state"]
    readonly_fields = fields
    verbose_name = "twinning"
    verbose_name_plural = "twinnings (this city second)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("city_a")


class CityMembershipInline(ReadOnlyInline):
    model = Membership
    fields = ["network", "role", "joined_year", "left_year", "review_state"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("network")


class CityCatalogueAdmin(CatalogueImportMixin, CityAdmin):
    resource_classes = [CityResource]
    inlines = [
        CityNameInline,
        CitySourceInline,
        TwinningAsAInline,
        TwinningAsBInline,
        CityMembershipInline,
    ]


admin.site.unregister(City)
admin.site.register(City, CityCatalogueAdmin)
