"""What every catalogue admin shares: review state (drafts by editors, publishing by
chief editors), history with reasons, slugs filled from names, the sources rule.

Each app's admin.py builds its admins on these classes.
"""

import dataclasses

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from . import review
from .models import PendingChange
from .records import CatalogueRecord, ReviewState, hold_history, write_history

REASON_MAX_LENGTH = 100  # simple-history's history_change_reason column


def numbered_slug(model, base, field="slug", exclude_pk=None):
    """`base`, or `base-2`, `base-3`... whichever is free in `model`."""
    max_length = model._meta.get_field(field).max_length
    base = base[: max_length - 6].strip("-") or model._meta.model_name
    taken = model._default_manager.filter(**{f"{field}__startswith": base})
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    taken = set(taken.values_list(field, flat=True))
    slug, number = base, 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    return slug


def is_review_model(model):
    return issubclass(model, CatalogueRecord)


def can_publish(user, model):
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.publish_{opts.model_name}")


class CatalogueForm(forms.ModelForm):
    """Rules the database cannot see at form time, as readable errors.

    - Users without the publish permission create drafts (`force_draft`).
    - An empty slug is filled from the name or title, unique (`-2`, `-3`...).
    - A published record cites at least one source.
    """

    force_draft = False
    slug_field = "slug"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.force_draft and self.instance._state.adding:
            self.instance.review_state = ReviewState.DRAFT
        slug = self.fields.get(self.slug_field)
        if slug is not None:
            slug.required = False
            slug.help_text = (slug.help_text + " " if slug.help_text else "") + (
                "Leave empty to fill it from the name."
            )

    def clean(self):
        cleaned = super().clean()
        slug = self.slug_field
        if slug in self.fields and not cleaned.get(slug) and slug not in self.errors:
            cleaned[slug] = self.make_slug(cleaned)
        if "sources" in self.fields and is_review_model(self._meta.model):
            state = cleaned.get("review_state", self.instance.review_state)
            if (
                state == ReviewState.PUBLISHED
                and not cleaned.get("sources")
                and "sources" not in self.errors
            ):
                self.add_error(
                    "sources",
                    "A published record cites at least one source: add one, or keep it as a draft.",
                )
        return cleaned

    def make_slug(self, cleaned):
        model = self._meta.model
        base = slugify(cleaned.get("name") or cleaned.get("title") or "")
        return numbered_slug(model, base, self.slug_field, exclude_pk=self.instance.pk)


class CatalogueAdminForm(CatalogueForm):
    """The admin's form: a reason for the history, and the version it was opened on.

    Optimistic locking: a save based on a version someone has changed since is refused
    with a link to the current version, instead of silently overwriting it.
    """

    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text="Optional; kept in the record's history.",
    )
    based_on_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and hasattr(self.instance, "version"):
            self.initial.setdefault("based_on_version", self.instance.version)

    def clean(self):
        cleaned = super().clean()
        base = cleaned.get("based_on_version")
        if base is not None and self.instance.pk is not None:
            self.refuse_if_stale(base)
        return cleaned

    def refuse_if_stale(self, base):
        model = type(self.instance)
        # Locked until this save commits (PostgreSQL; SQLite writes one at a time), so
        # two saves of version 3 cannot both pass.
        current = (
            model._default_manager.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if current is None or current == base:
            return
        latest = model.history.select_related("history_user").first()
        who = ""
        if latest is not None:
            user = latest.history_user.get_username() if latest.history_user else "a load or import"
            who = f" by {user} at {timezone.localtime(latest.history_date):%Y-%m-%d %H:%M}"
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[self.instance.pk])
        raise forms.ValidationError(
            format_html(
                "This record was changed{} after you opened it, so your changes were not "
                "saved (they would have overwritten that change). "
                '<a href="{}">Open the current version</a> and make your changes again.',
                who,
                url,
            ),
            code="stale",
        )


# Bookkeeping columns a history screen does not list as changes.
HISTORY_HIDDEN = {"updated_at", "version"}


class LabelledChanges(HistoricalRecordContextHelper):
    """A history row's changes as an editor reads them: field labels, choice labels
    ("Twin town", not `twin_town`), yes/no, linked records by name."""

    def context_for_delta_changes(self, delta):
        changes = [c for c in delta.changes if c.field not in HISTORY_HIDDEN]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if field.many_to_many:
            return super().prepare_delta_change_value(change, value)
        if value is None or value == "":
            return "—"
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.BooleanField):
            return "yes" if value else "no"
        return super().prepare_delta_change_value(change, value)


def historical_links(model, version_id):
    """{m2m field name: [pks]} as history row `version_id` recorded them."""
    tracker = getattr(model, "_history", None)
    if tracker is None:
        return {}
    links = {}
    for field in model.history.model._history_m2m_fields:
        rows = tracker.m2m_models[field].objects.filter(history_id=version_id)
        target = field.m2m_reverse_field_name() + "_id"
        links[field.name] = list(rows.values_list(target, flat=True))
    return links


class HistoryAdmin(SimpleHistoryAdmin):
    """Every save is recorded by simple-history with its user and an optional reason.

    Anyone who may see a record sees its history; only a chief editor reverts (the
    publish permission, or delete for records without a review state), because a
    revert can bring back any earlier state, published or not.
    """

    form = CatalogueAdminForm
    formfield_overrides = {
        models.URLField: {"widget": widgets.AdminURLFieldWidget, "assume_scheme": "https"}
    }
    save_on_top = True
    history_list_display = []  # the reason has its own column in simple-history's table

    def get_historical_record_context_helper(self, request, historical_record):
        return LabelledChanges(self.model, historical_record)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """On a revert screen, the form starts from the links the version had."""
        form = super().get_form(request, obj, change, **kwargs)
        version = getattr(request, "_history_version", None)
        if version is None:
            return form
        links = historical_links(self.model, version)

        current = (
            self.model._default_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
            if obj is not None and hasattr(self.model, "version")
            else None
        )

        def __init__(self, *args, **kwargs):
            form.__init__(self, *args, **kwargs)
            self.initial.update({name: pks for name, pks in links.items() if name in self.fields})
            if current is not None:  # a revert replaces the current version
                self.initial["based_on_version"] = current

        return type(form.__name__, (form,), {"__init__": __init__})

    # Changes to what the public sees wait for review (cities/review.py) ---------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None and "_saveasnew" not in request.POST:
            obj = self.get_object(request, unquote(object_id))
            if (
                obj is not None
                and request.method == "POST"
                and review.needs_review(request.user, obj)
            ):
                return self.propose_change(request, obj, object_id, form_url, extra_context)
            if obj is not None and request.method == "GET":
                self.say_what_waits(request, obj)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def propose_change(self, request, obj, object_id, form_url, extra_context):
        """Run the usual save, read the state it gives, undo it, keep it for review."""
        before = review.record_state(obj)
        after = None
        request._proposing = True
        try:
            with transaction.atomic():
                response = super().changeform_view(request, object_id, form_url, extra_context)
                if response.status_code == 302:
                    after = review.record_state(self.model._default_manager.get(pk=obj.pk))
                raise review.Rollback
        except review.Rollback:
            pass
        finally:
            request._proposing = False
        if after is None:  # the form has errors: show them
            return response
        change = review.propose(
            obj, before, after, user=request.user, reason=request.POST.get("change_reason", "")
        )
        if change is None:
            self.message_user(request, "No changes to save.", messages.INFO)
        else:
            url = reverse("admin:citydiplo_pendingchange_change", args=[change.pk])
            self.message_user(
                request,
                format_html(
                    "Your change to “{}” waits for a chief editor's review; until it is "
                    'approved the public sees the published version. <a href="{}">See the '
                    "change</a>.",
                    obj,
                    url,
                ),
                messages.WARNING,
            )
        opts = self.model._meta
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )

    def say_what_waits(self, request, obj):
        for change in review.pending_for(obj).select_related("author"):
            url = reverse("admin:citydiplo_pendingchange_change", args=[change.pk])
            author = change.author.get_username() if change.author else "an editor"
            self.message_user(
                request,
                format_html(
                    'A change by {} to this record waits for review: <a href="{}">see it</a>. '
                    "The form shows the published version.",
                    author,
                    url,
                ),
                messages.WARNING,
            )

    def message_user(self, request, *args, **kwargs):
        if getattr(request, "_proposing", False):
            return  # the admin's "changed successfully": not true, the change waits
        super().message_user(request, *args, **kwargs)

    def can_revert(self, request, obj=None):
        if is_review_model(self.model):
            return can_publish(request.user, self.model)
        return self.has_delete_permission(request, obj)

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or not self.can_revert(request, obj)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            if not self.can_revert(request):
                raise PermissionDenied
            request._history_revert = True
        request._history_version = version_id
        response = super().history_form_view(request, object_id, version_id, extra_context)
        reverted = getattr(request, "_reverted", None)
        if reverted is not None:  # saved with its links: now its one history row
            write_history(reverted)
        return response

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if is_review_model(self.model):
            fields += ["created_at", "updated_at"]
        return fields

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason", "")
        if not reason and getattr(request, "_history_revert", False):
            reason = "Reverted to an earlier version"
        obj._change_reason = reason or None
        # One history row per save, written once the links are saved too
        # (save_related, or history_form_view for a revert).
        hold_history(obj)
        if getattr(request, "_history_revert", False):
            request._reverted = obj
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        write_history(form.instance, "~" if change else "+")

    def save_formset(self, request, form, formset, change):
        reason = form.cleaned_data.get("change_reason") or None
        for inline_form in formset.forms:
            inline_form.instance._change_reason = reason
            inline_form.instance._history_user = request.user
            if not formset.can_delete or not formset._should_delete_form(inline_form):
                hold_history(inline_form.instance)
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            write_history(obj, "+")
        for obj, _fields in formset.changed_objects:
            write_history(obj, "~")


class ReviewAdmin(HistoryAdmin):
    """Admin of a record with a review state: drafts by editors, publishing by chiefs."""

    actions = ["publish", "return_to_draft"]

    def has_publish_permission(self, request):
        return can_publish(request.user, self.model)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = kwargs.get("form", self.form)
        if not self.has_publish_permission(request):
            kwargs["form"] = type(form.__name__, (form,), {"force_draft": True})
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not self.has_publish_permission(request):
            fields = ["review_state", *fields]
        return fields

    def view_on_site(self, obj):
        """A draft's "View on site" is its preview: its public page does not exist yet."""
        if obj.is_published and hasattr(obj, "get_absolute_url"):
            return obj.get_absolute_url()
        if hasattr(obj, "get_absolute_url"):
            return reverse(
                "admin:citydiplo_pendingchange_preview_record",
                args=[obj._meta.app_label, obj._meta.model_name, obj.pk],
            )
        return None

    @admin.action(permissions=["publish"], description="Publish the selected records")
    def publish(self, request, queryset):
        drafts = queryset.filter(review_state=ReviewState.DRAFT)
        unsourced = set(drafts.filter(sources__isnull=True).values_list("pk", flat=True))
        published = []
        for obj in drafts:
            if obj.pk in unsourced:
                continue
            self._set_state(request, obj, ReviewState.PUBLISHED, "Published")
            published.append(obj)
        if published:
            self.message_user(request, f"Published {len(published)} record(s).", messages.SUCCESS)
        if unsourced:
            names = ", ".join(str(obj) for obj in drafts.filter(pk__in=unsourced))
            self.message_user(
                request,
                f"Not published, no source cited: {names}. Add a source first.",
                messages.ERROR,
            )
        if not published and not unsourced:
            self.message_user(request, "The selected records were already published.")

    @admin.action(permissions=["publish"], description="Return the selected records to draft")
    def return_to_draft(self, request, queryset):
        count = 0
        for obj in queryset.filter(review_state=ReviewState.PUBLISHED):
            self._set_state(request, obj, ReviewState.DRAFT, "Returned to draft")
            count += 1
        self.message_user(request, f"Returned {count} record(s) to draft.", messages.SUCCESS)

    def _set_state(self, request, obj, state, message):
        obj.review_state = state
        obj._change_reason = message
        obj._history_user = request.user
        obj.save(update_fields=["review_state"])
        self.log_change(request, obj, message)


class ReviewInline:
    """Inline of a record with a review state: drafts for editors, a sources rule."""

    form = CatalogueForm
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        if not can_publish(request.user, self.model):
            kwargs["form"] = type(self.form.__name__, (self.form,), {"force_draft": True})
        return super().get_formset(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user, self.model):
            fields.append("review_state")
        return fields


# The review queue --------------------------------------------------------------------


class ReviewDecisionForm(forms.Form):
    review_reason = forms.CharField(
        label="Reason",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Shown to the editor; required to reject.",
    )


@admin.register(PendingChange)
class PendingChangeAdmin(admin.ModelAdmin):
    """Chief editors approve or reject editors' changes to published records; editors
    see what became of their own."""

    list_display = [
        "record_label",
        "record_kind",
        "author",
        "created_at",
        "status",
        "reviewer",
        "review_reason",
    ]
    list_filter = ["status", "content_type"]
    search_fields = ["record_label", "reason", "review_reason", "author__username"]
    list_select_related = ["author", "reviewer", "content_type"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]

    @admin.display(description="kind of record", ordering="content_type__model")
    def record_kind(self, obj):
        return obj.content_type.model_class()._meta.verbose_name

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if review.is_reviewer(request.user):
            return queryset
        return queryset.filter(author=request.user)

    def changelist_view(self, request, extra_context=None):
        """Chief editors land on what waits for them."""
        if request.method == "GET" and not request.GET and review.is_reviewer(request.user):
            return HttpResponseRedirect(request.path + "?status__exact=pending")
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        from django.urls import path

        urls = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_change),
                name="citydiplo_pendingchange_preview",
            ),
            path(
                "preview/<str:app_label>/<str:model_name>/<int:pk>/",
                self.admin_site.admin_view(self.preview_record),
                name="citydiplo_pendingchange_preview_record",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from django.shortcuts import get_object_or_404
        from django.template.response import TemplateResponse

        change = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        model = change.content_type.model_class()
        may_decide = review.is_reviewer(request.user) and change.status == "pending"
        form = ReviewDecisionForm(request.POST or None)
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            if form.is_valid():
                reason = form.cleaned_data["review_reason"]
                if "_approve" in request.POST:
                    try:
                        review.approve(change, reviewer=request.user, reason=reason)
                    except review.Conflict as exc:
                        form.add_error(None, str(exc))
                    else:
                        self.message_user(request, f"Approved: {change.record_label} is updated.")
                        return HttpResponseRedirect(
                            reverse("admin:citydiplo_pendingchange_changelist")
                        )
                elif "_reject" in request.POST:
                    if not reason:
                        form.add_error("review_reason", "Say why, for the editor.")
                    else:
                        review.reject(change, reviewer=request.user, reason=reason)
                        self.message_user(request, f"Rejected the change to {change.record_label}.")
                        return HttpResponseRedirect(
                            reverse("admin:citydiplo_pendingchange_changelist")
                        )
        record = change.record
        record_url = None
        if record is not None:
            opts = model._meta
            record_url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk]
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Change to {change.record_label}",
            "change": change,
            "kind": model._meta.verbose_name,
            "diff": review.state_diff(model, change.before, change.after),
            "record_url": record_url,
            "preview_url": (
                reverse("admin:citydiplo_pendingchange_preview", args=[change.pk])
                if record is not None and hasattr(record, "get_absolute_url")
                else None
            ),
            "may_decide": may_decide,
            "form": form,
            "stale": may_decide
            and record is not None
            and review.record_state(record) != change.before,
        }
        return TemplateResponse(request, "admin/citydiplo/pendingchange/review.html", context)

    def preview_change(self, request, pk):
        from django.shortcuts import get_object_or_404

        change = get_object_or_404(self.get_queryset(request), pk=pk)
        record = change.record
        if record is None:
            raise PermissionDenied
        return preview_response(request, record, change.after)

    def preview_record(self, request, app_label, model_name, pk):
        from django.apps import apps
        from django.http import Http404

        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            raise Http404 from None
        if not request.user.has_perm(f"{app_label}.view_{model_name}"):
            raise PermissionDenied
        record = model._default_manager.filter(pk=pk).first()
        if record is None or not hasattr(record, "get_absolute_url"):
            raise Http404
        return preview_response(request, record, None)


PREVIEW_BANNER = (
    '<p role="status" class="preview-banner">Preview: this page shows {} as the public '
    "would see it once published. Nothing is published.</p>"
)


def preview_response(request, record, state):
    """The record's public page with `state` applied (or as it is, published), from a
    transaction that is then rolled back."""
    from django.http import HttpResponse
    from django.urls import resolve

    def render():
        current = type(record)._default_manager.get(pk=record.pk)
        path = current.get_absolute_url()
        match = resolve(path)
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response.render()
        return response.status_code, response.content.decode()

    status, html = review.render_as_public(record, state, render)
    what = "this pending change" if state is not None else "this draft"
    banner = PREVIEW_BANNER.format(what)
    html = html.replace("<body>", "<body>" + banner, 1) if "<body>" in html else banner + html
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
