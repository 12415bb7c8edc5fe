"""``manage.py create_api_key NAME``: create a key for the public API and print it once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.api_keys import api_key_create
from contacts.services import ContactInputError


class Command(BaseCommand):
    help = "Create a key for the public API. The key is printed once and stored only hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Which system will use the key, e.g. Shop.")
        parser.add_argument(
            "--created-by", metavar="USERNAME", help="Record this user as the key's creator."
        )

    def handle(self, *args: object, **options: object) -> None:
        user = None
        if username := options.get("created_by"):
            model = get_user_model()
            try:
                user = model.objects.get(**{model.USERNAME_FIELD: username})
            except model.DoesNotExist:
                raise CommandError(f'No user "{username}"') from None
        try:
            created = api_key_create(name=str(options["name"]), created_by=user)
        except ContactInputError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f'Created API key "{created.api_key.name}". It is shown only this once; '
            "send it as: Authorization: Basic <key>"
        )
        # The key alone on stdout, so that scripts can capture it: KEY=$(manage.py create_api_key X)
        self.stdout.write(created.secret)
