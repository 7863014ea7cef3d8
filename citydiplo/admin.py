"""What every catalogue admin shares: review state (drafts by editors, publishing by
chief editors), history with reasons, slugs filled from names, the sources rule.

Each app's admin.py builds its admins on these classes.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.text import slugify
from simple_history.admin import SimpleHistoryAdmin

from .records import CatalogueRecord, ReviewState

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
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text="Optional; kept in the record's history.",
    )


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
    history_list_display = ["history_change_reason"]

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
        return super().history_form_view(request, object_id, version_id, extra_context)

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
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        reason = form.cleaned_data.get("change_reason") or None
        for inline_form in formset.forms:
            inline_form.instance._change_reason = reason
            inline_form.instance._history_user = request.user
        super().save_formset(request, form, formset, change)


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
        """Link drafts nowhere: their public page does not exist yet."""
        if obj.is_published and hasattr(obj, "get_absolute_url"):
            return obj.get_absolute_url()
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
