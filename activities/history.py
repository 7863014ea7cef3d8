"""History for records written without save(): loaded, or imported in bulk.

`loaddata` saves raw, so simple-history's signals do not fire; commands that load or
import records call `record_changes` afterwards. It writes one history row for each
record that has none yet ("+") or differs from its latest history row ("~"), so a
command that changes nothing writes nothing. Bulk imports (`import_twinnings`, the
admin's imports) know which rows they wrote and call `copy_to_history` for them.
"""

from django.db import connection
from django.db.models import Max
from django.utils import timezone
from simple_history.models import registered_models


def history_models():
    """The catalogue models that keep a history, in a stable order (link tables, whose
    history rows belong to their record's, are left out)."""
    return sorted(
        (model for model in registered_models.values() if hasattr(model, "history")),
        key=lambda model: model._meta.label,
    )


def copy_links(model, pks, since, chunk=500):
    """Give the history rows of records `pks` written at or after `since` the links
    (sources, themes...) the records have now, as simple-history does for one save.

    Rows written in bulk (bulk_history_create, INSERT ... SELECT) get none otherwise,
    and a revert to such a row would drop every link.
    """
    tracker = getattr(model, "_history", None)
    if tracker is None or not pks:
        return
    quote = connection.ops.quote_name
    history = model.history.model
    since = connection.ops.adapt_datetimefield_value(since)
    with connection.cursor() as cursor:
        for field in history._history_m2m_fields:
            links = tracker.m2m_models[field]._meta.db_table
            through = field.remote_field.through._meta.db_table
            owner, target = quote(field.m2m_column_name()), quote(field.m2m_reverse_name())
            for start in range(0, len(pks), chunk):
                ids = list(pks[start : start + chunk])
                cursor.execute(
                    f"INSERT INTO {quote(links)} ({quote('id')}, {quote('history_id')}, "
                    f"{owner}, {target}) "
                    f"SELECT t.{quote('id')}, h.{quote('history_id')}, t.{owner}, t.{target} "
                    f"FROM {quote(history._meta.db_table)} h "
                    f"JOIN {quote(through)} t ON t.{owner} = h.{quote('id')} "
                    f"WHERE h.{quote('history_date')} >= %s "
                    f"AND h.{quote('id')} IN ({', '.join(['%s'] * len(ids))})",
                    [since, *ids],
                )


def copy_to_history(model, pks, reason, *, history_type="+", user=None, chunk=500):
    """History rows for rows `pks` just written in bulk, as they now are, with their
    links: one row each, as simple-history writes for one save.

    What simple-history's bulk_history_create writes, copied inside the database with
    INSERT ... SELECT instead of building and compiling a Python object per row: for
    24,000 twinnings that is a fraction of a second instead of many seconds.
    """
    history = model.history.model
    quote = connection.ops.quote_name
    columns = []
    for tracked in history.tracked_fields:
        source_column = model._meta.get_field(tracked.name).column
        target_column = history._meta.get_field(tracked.name).column
        columns.append((quote(target_column), quote(source_column)))
    targets = ", ".join(target for target, _ in columns)
    sources = ", ".join(source for _, source in columns)
    when = timezone.now()
    now = connection.ops.adapt_datetimefield_value(when)
    user_id = user.pk if user is not None else None
    with connection.cursor() as cursor:
        for start in range(0, len(pks), chunk):
            ids = list(pks[start : start + chunk])
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({targets}, "
                f"{quote('history_date')}, {quote('history_change_reason')}, "
                f"{quote('history_type')}, {quote('history_user_id')}) "
                f"SELECT {sources}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(model._meta.pk.column)} IN ({', '.join(['%s'] * len(ids))})",
                [now, reason, history_type, user_id, *ids],
            )
    copy_links(model, pks, when)  # its sources and themes, for a revert


def record_changes(reason, user=None, models=None):
    """Write history rows for records changed behind simple-history's back.

    Returns {model label: number of history rows written}.
    """
    now = timezone.now()
    written = {}
    for model in models or history_models():
        history = model.history.model
        fields = [field.attname for field in history.tracked_fields]
        latest_ids = history.objects.values("id").annotate(latest=Max("history_id"))
        latest = {
            row[0]: row[1:]
            for row in history.objects.filter(
                history_id__in=latest_ids.values("latest")
            ).values_list("id", *fields)
        }
        created, changed = [], []
        for pk, *values in model._default_manager.values_list("pk", *fields).iterator(
            chunk_size=2000
        ):
            if pk not in latest:
                created.append(pk)
            elif latest[pk] != tuple(values):
                changed.append(pk)
        if created:
            insert_first_rows(model, reason, user, now)
            copy_links(model, created, now)
        for start in range(0, len(changed), 500):
            objs = model._default_manager.filter(pk__in=changed[start : start + 500])
            model.history.bulk_history_create(
                objs,
                update=True,
                default_user=user,
                default_change_reason=reason,
                default_date=now,
            )
        copy_links(model, changed, now)
        if created or changed:
            written[model._meta.label] = len(created) + len(changed)
    return written


def insert_first_rows(model, reason, user, date):
    """Give every record of `model` that has no history row one ("+"), copied by the
    database: what simple-history's bulk_history_create writes, without building a
    model instance per row. On the 10,035 records of a first `load_catalogue` that took
    1.4 s of 6.9 s (CPU), INSERT ... SELECT 0.05 s (bench/README.md, load_catalogue).
    """
    quote = connection.ops.quote_name
    history = model.history.model
    columns = [model._meta.get_field(f.name).column for f in history.tracked_fields]
    copied = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({copied}, "
            f"{quote('history_date')}, {quote('history_change_reason')}, "
            f"{quote('history_type')}, {quote('history_user_id')}) "
            f"SELECT {', '.join(f't.{quote(c)}' for c in columns)}, %s, %s, '+', %s "
            f"FROM {quote(model._meta.db_table)} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {quote(history._meta.db_table)} h "
            f"WHERE h.{quote('id')} = t.{quote(model._meta.pk.column)})",
            [connection.ops.adapt_datetimefield_value(date), reason, user.pk if user else None],
        )
