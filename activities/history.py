"""History for records written outside the admin.

`loaddata` saves raw, so simple-history's signals do not fire; commands that load or
import records call `record_changes` afterwards. It writes one history row for each
record that has none yet ("+") or differs from its latest history row ("~"), so a
command that changes nothing writes nothing.
"""

from django.db.models import Max
from django.utils import timezone
from simple_history.models import registered_models


def history_models():
    """The catalogue models that keep a history, in a stable order."""
    return sorted(registered_models.values(), key=lambda model: model._meta.label)


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
        for obj in model._default_manager.iterator(chunk_size=2000):
            values = tuple(getattr(obj, name) for name in fields)
            if obj.pk not in latest:
                created.append(obj)
            elif latest[obj.pk] != values:
                changed.append(obj)
        for objs, update in ((created, False), (changed, True)):
            if objs:
                model.history.bulk_history_create(
                    objs,
                    batch_size=500,
                    update=update,
                    default_user=user,
                    default_change_reason=reason,
                    default_date=now,
                )
        if created or changed:
            written[model._meta.label] = len(created) + len(changed)
    return written
