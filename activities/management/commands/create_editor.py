import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

EDITORS = "Editors"
CHIEF_EDITORS = "Chief editors"
PASSWORD_VARIABLE = "CITYDIPLO_EDITOR_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a staff account in the Editors group (or Chief editors with --chief). "
        f"The password comes from --password, else ${PASSWORD_VARIABLE}, else a prompt."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--chief", action="store_true", help="A chief editor.")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help=f"Prefer ${PASSWORD_VARIABLE} or the prompt.")

    def handle(self, *args, username, chief, email, password, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user called {username!r} already exists.")
        group_name = CHIEF_EDITORS if chief else EDITORS
        try:
            group = Group.objects.get(name=group_name)
        except Group.DoesNotExist:
            raise CommandError(f"No group {group_name!r}: run `manage.py migrate` first.") from None

        password = password or os.environ.get(PASSWORD_VARIABLE) or self.prompt_password()
        user = User(username=username, email=email, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None

        with transaction.atomic():
            user.set_password(password)
            user.save()
            user.groups.add(group)
        self.stdout.write(self.style.SUCCESS(f"Created {username} in {group_name}."))

    def prompt_password(self):
        if not self.stdin_is_interactive():
            raise CommandError(f"Give a password with --password or ${PASSWORD_VARIABLE}.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first

    def stdin_is_interactive(self):
        return os.isatty(0)
