from io import StringIO

from django.core.management import call_command


def test_no_migration_is_missing(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit as exc:  # makemigrations --check exits 1 when a migration is missing
        raise AssertionError(f"Missing migrations:\n{out.getvalue()}") from exc
