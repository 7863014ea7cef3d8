"""Changes to published records wait for a chief editor.

An editor's change to a record the public can see (a published city, network,
twinning...; a source or theme, which are always public; a party of a published
agreement) is not written to the record: the admin and the imports compute the state
the record would have, store it with the current state as a PendingChange, and leave
the record alone. A chief editor approves it (the stored state is written, with
history) or rejects it, each with a reason; the editor sees which in the queue.

A record's state is what it says: its own columns, its many-to-many links (forward and
reverse, e.g. a city's sources) and the rows edited inline on its page
(`review_children`: an agreement's parties, a network's memberships). Everything is
found through `_meta`, so this module names no model of `activities`.
"""

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from .models import PendingChange, PendingChangeStatus
from .records import hold_history, write_history

# Columns that are bookkeeping, not what a record says.
NOT_STATE = {"created_at", "updated_at", "version"}
REVIEW_PERMISSION = "citydiplo.review_pendingchange"


class Rollback(Exception):
    """Raised inside an atomic block to undo it on purpose."""


class Conflict(Exception):
    """The record changed since the proposal was made."""


def is_reviewer(user):
    return user.has_perm(REVIEW_PERMISSION)


def is_public(obj):
    """Whether the public sees `obj`: published records; records without a review
    state (sources, themes) always; others follow their parent (`is_published`)."""
    return obj.pk is not None and getattr(obj, "is_published", True)


def needs_review(user, obj):
    return obj.pk is not None and is_public(obj) and not is_reviewer(user)


# A record's state ---------------------------------------------------------------------


def own_fields(model, exclude=()):
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in NOT_STATE and f.name not in exclude
    ]


def many_fields(model):
    """Forward many-to-many fields, and reverse ones through an automatic table (a
    city's sources are Source.cities seen from the city)."""
    fields = [f for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]
    fields += [
        f for f in model._meta.related_objects if f.many_to_many and f.through._meta.auto_created
    ]
    return fields


def many_name(field):
    return field.get_accessor_name() if field.auto_created else field.name


def linked_pks(obj, field):
    # .all(), not values_list(): it reads what state_lookups() prefetched, if anything.
    return sorted(linked.pk for linked in getattr(obj, many_name(field)).all())


def children_relations(model):
    names = getattr(model, "review_children", ())
    return [model._meta.get_field(name) for name in names]


def _value(field, obj):
    """A column as JSON: None, or the field's own string form (country codes, ISO
    dates, decimals as written), which `field.to_python` reads back."""
    if field.value_from_object(obj) is None:
        return None
    return field.value_to_string(obj)


def fields_state(obj, exclude=("review_state",)):
    """The "fields" part of `record_state`: `obj`'s own columns, as they are in memory."""
    return {f.name: _value(f, obj) for f in own_fields(type(obj), exclude)}


def record_state(obj, exclude=("review_state",)):
    """What `obj` says, as JSON: {"fields", "links", "children"}.

    A record's own review state is left out: publishing is not an editor's change.
    Links and inline rows are read from the database, or from what `state_lookups`
    prefetched (for many records at once: the imports).
    """
    model = type(obj)
    state = {
        "fields": fields_state(obj, exclude),
        "links": {many_name(f): linked_pks(obj, f) for f in many_fields(model)},
        "children": {},
    }
    for relation in children_relations(model):
        child_model = relation.related_model
        parent = relation.field.name
        rows = []
        children = getattr(obj, relation.get_accessor_name()).all()
        for child in sorted(children, key=lambda child: child.pk):
            rows.append(
                {
                    "pk": child.pk,
                    "fields": {f.name: _value(f, child) for f in own_fields(child_model, {parent})},
                    "links": {
                        many_name(f): linked_pks(child, f) for f in child_model._meta.many_to_many
                    },
                }
            )
        state["children"][relation.get_accessor_name()] = rows
    return state


def state_lookups(model):
    """prefetch_related() lookups that let `record_state` read a record's links and
    inline rows without a query per record."""
    lookups = [many_name(f) for f in many_fields(model)]
    for relation in children_relations(model):
        name = relation.get_accessor_name()
        lookups.append(name)
        lookups += [f"{name}__{f.name}" for f in relation.related_model._meta.many_to_many]
    return lookups


def _set_fields(obj, values):
    for name, value in values.items():
        field = obj._meta.get_field(name)
        setattr(obj, field.attname, None if value is None else field.to_python(value))


def apply_state(obj, state, *, user=None, reason=None):
    """Write `state` to `obj` and its inline rows, with history."""
    model = type(obj)
    _set_fields(obj, state["fields"])
    obj._history_user = user
    obj._change_reason = reason
    hold_history(obj)
    obj.save()
    for name, pks in state["links"].items():
        getattr(obj, name).set(pks)
    write_history(obj)
    for relation in children_relations(model):
        name = relation.get_accessor_name()
        if name not in state["children"]:
            continue
        child_model = relation.related_model
        wanted = {row["pk"]: row for row in state["children"][name] if row["pk"]}
        for child in getattr(obj, name).all():
            if child.pk not in wanted:
                child._history_user, child._change_reason = user, reason
                child.delete()
        for row in state["children"][name]:
            child = child_model._default_manager.filter(pk=row["pk"]).first() if row["pk"] else None
            child = child or child_model(**{relation.field.name: obj})
            _set_fields(child, row["fields"])
            child._history_user, child._change_reason = user, reason
            adding = child.pk is None
            hold_history(child)
            child.save()
            for link, pks in row["links"].items():
                getattr(child, link).set(pks)
            write_history(child, "+" if adding else "~")


# Showing a change ---------------------------------------------------------------------


def _display(field, value):
    """A stored value as an editor reads it: choice labels, related records by name."""
    if value is None or value == "":
        return "—"
    if field.is_relation:
        target = field.related_model._default_manager.filter(pk=value).first()
        return str(target) if target else f"(deleted #{value})"
    value = field.to_python(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return "yes" if value else "no"
    return str(value)


def _display_links(model, pks):
    if not pks:
        return "—"
    names = {obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=pks)}
    return "; ".join(names.get(pk, f"(deleted #{pk})") for pk in pks)


def _label(field_or_name):
    if isinstance(field_or_name, str):
        name = field_or_name
    else:
        name = getattr(field_or_name, "verbose_name", None) or field_or_name.name
    return str(name)[:1].upper() + str(name)[1:]


def _link_field(model, name):
    for field in many_fields(model):
        if many_name(field) == name:
            return field
    raise LookupError(name)


def _link_label(field):
    if field.auto_created:
        return _label(field.related_model._meta.verbose_name_plural)
    return _label(field)


def _target(field):
    return field.related_model


def state_diff(model, before, after):
    """[(label, before, after)] of what differs, in words.

    Columns no form edits (a name's normalised form, a twinning's copy of its places'
    names) are left out: they follow a change shown beside them."""
    rows = []
    for name, new in after["fields"].items():
        old = before["fields"].get(name)
        field = model._meta.get_field(name)
        if old != new and field.editable:
            rows.append((_label(field), _display(field, old), _display(field, new)))
    for name, new in after["links"].items():
        old = before["links"].get(name, [])
        if sorted(old) != sorted(new):
            field = _link_field(model, name)
            rows.append(
                (
                    _link_label(field),
                    _display_links(_target(field), old),
                    _display_links(_target(field), new),
                )
            )
    for relation in children_relations(model):
        name = relation.get_accessor_name()
        child_model = relation.related_model
        old_rows = {row["pk"]: row for row in before["children"].get(name, [])}
        new_rows = after["children"].get(name, [])
        kind = _label(child_model._meta.verbose_name)
        for row in new_rows:
            old = old_rows.pop(row["pk"], None) if row["pk"] else None
            if old == row:
                continue
            described = _describe_row(child_model, row)
            if old is None:
                rows.append((f"{kind} added", "—", described))
            else:
                rows.append((f"{kind} changed", _describe_row(child_model, old), described))
        for old in old_rows.values():
            rows.append((f"{kind} removed", _describe_row(child_model, old), "—"))
    return rows


def _describe_row(model, row):
    parts = []
    for name, value in row["fields"].items():
        field = model._meta.get_field(name)
        if value in (None, "") or not field.editable:
            continue
        parts.append(f"{_label(field)}: {_display(field, value)}")
    for name, pks in row["links"].items():
        if pks:
            field = model._meta.get_field(name)
            parts.append(f"{_label(field)}: {_display_links(field.related_model, pks)}")
    return "; ".join(parts)


# Proposing, approving, rejecting ----------------------------------------------------------


def propose(obj, before, after, *, user, reason=""):
    """Store an editor's change to `obj`; None when it changes nothing.

    The author's own earlier proposal for the same record, still waiting, is replaced.
    """
    changes = propose_many([(obj, before, after)], user=user, reason=reason)
    return changes[0] if changes else None


def propose_many(proposals, *, user, reason="", chunk=500):
    """`propose` for many records [(obj, before, after)] in a few queries (an import);
    returns the changes stored, leaving out those that change nothing."""
    proposals = [(obj, before, after) for obj, before, after in proposals if before != after]
    types = ContentType.objects.get_for_models(*{type(obj) for obj, _, _ in proposals})
    now = timezone.now()
    changes = []
    for start in range(0, len(proposals), chunk):
        batch = proposals[start : start + chunk]
        for model, content_type in types.items():
            PendingChange.objects.filter(
                content_type=content_type,
                object_id__in=[obj.pk for obj, _, _ in batch if type(obj) is model],
                author=user,
                status=PendingChangeStatus.PENDING,
            ).update(status=PendingChangeStatus.SUPERSEDED, reviewed_at=now)
        changes += PendingChange.objects.bulk_create(
            PendingChange(
                content_type=types[type(obj)],
                object_id=obj.pk,
                record_label=str(obj)[:300],
                author=user,
                reason=reason or "",
                before=before,
                after=after,
                created_at=now,
            )
            for obj, before, after in batch
        )
    return changes


def pending_for(obj):
    return PendingChange.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        status=PendingChangeStatus.PENDING,
    )


@transaction.atomic
def approve(change, *, reviewer, reason=""):
    """Write the proposed state to the record; Conflict if it changed meanwhile."""
    model = change.content_type.model_class()
    obj = model._default_manager.select_for_update().filter(pk=change.object_id).first()
    if obj is None:
        raise Conflict("The record has been deleted since.")
    if record_state(obj) != change.before:
        raise Conflict(
            "The record has changed since this change was proposed; approving it would "
            "undo that. Reject it and ask for the change again on the current version."
        )
    author = change.author.get_username() if change.author else "an editor"
    note = f"Approved change by {author}" + (f": {change.reason}" if change.reason else "")
    apply_state(obj, change.after, user=reviewer, reason=note[:100])
    _close(change, PendingChangeStatus.APPROVED, reviewer, reason)


def reject(change, *, reviewer, reason=""):
    _close(change, PendingChangeStatus.REJECTED, reviewer, reason)


def _close(change, status, reviewer, reason):
    change.status = status
    change.reviewer = reviewer
    change.reviewed_at = timezone.now()
    change.review_reason = reason or ""
    change.save(update_fields=["status", "reviewer", "reviewed_at", "review_reason"])


def render_as_public(obj, state, render):
    """`render()`'s result with `state` applied to `obj` and `obj` published, then
    everything undone: a preview of a draft or a pending change, written nowhere."""
    result = None
    try:
        with transaction.atomic():
            if state is not None:
                apply_state(obj, state)
            if hasattr(obj, "review_state"):
                type(obj)._default_manager.filter(pk=obj.pk).update(review_state="published")
            result = render()
            raise Rollback
    except Rollback:
        pass
    return result
