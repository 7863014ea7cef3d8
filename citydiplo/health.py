"""/healthz for load balancers: can the catalogue be read?

`SELECT 1` only says the server answers; a database whose catalogue tables are
missing or unreadable (a failed migration, a restore in progress, revoked rights)
answers it too. So the check reads one row of every catalogue table, in one query.
"""

from django.apps import apps
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .versioning import tracked_tables


def catalogue_tables():
    return tracked_tables(apps)


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            quote = connection.ops.quote_name
            probes = ", ".join(
                f"(SELECT 1 FROM {quote(table)} LIMIT 1)" for table in catalogue_tables()
            )
            cursor.execute(f"SELECT 1, {probes}")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "error", "database": "unreadable", "detail": exc.__class__.__name__},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})
