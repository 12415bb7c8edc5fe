"""Load demo data: tags, custom fields of every type, contacts, and staff accounts.

Running it twice adds nothing twice: contacts are matched by phone, the rest by name.
"""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from contacts import services
from contacts.fields import field_registry
from contacts.models import Attribute, Contact, FieldType
from contacts.services import Actor

DEFAULT_TAGS = ["New Customer", "Potential Lead", "Repeat Buyer", "VIP", "Support", "Cold Lead"]
ATTRIBUTES = [
    ("City", FieldType.TEXT),
    ("Lifetime value", FieldType.NUMBER),
    ("Orders", FieldType.NUMBER),
    ("Newsletter", FieldType.BOOLEAN),
    ("Last order date", FieldType.DATETIME),
    ("Date of birth", FieldType.DATETIME),
    ("Interests", FieldType.LIST),
]
FIRST = [
    "Aarav",
    "Priya",
    "Rohan",
    "Ananya",
    "Vikram",
    "Meera",
    "Arjun",
    "Kavya",
    "Ishaan",
    "Diya",
    "Kabir",
    "Sara",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Fatima",
    "Omar",
    "Chen",
    "Mei",
    "Lucas",
    "Sofia",
    "Mateo",
    "Amara",
    "Tunde",
    "Zara",
    "Nikhil",
    "Pooja",
    "Rahul",
    "Sneha",
    "Gavin",
    "Hannah",
]
LAST = [
    "Sharma",
    "Patel",
    "Iyer",
    "Reddy",
    "Khan",
    "Gupta",
    "Nair",
    "Singh",
    "Das",
    "Mehta",
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Okafor",
    "Haddad",
    "Wang",
    "Silva",
    "Rossi",
    "Müller",
    "Kapoor",
    "Roberts",
    "Fernandes",
    "Bose",
]
CITIES = [
    "Mumbai",
    "Bengaluru",
    "Delhi",
    "Pune",
    "Chennai",
    "Hyderabad",
    "Kolkata",
    "Jaipur",
    "London",
    "Dubai",
    "Singapore",
    "New York",
]
INTERESTS = ["shoes", "electronics", "books", "fitness", "travel", "beauty", "home", "toys"]
STAFF = [
    ("admin", None, True),
    ("manager", "Managers", False),
    ("editor", "Editors", False),
    ("viewer", "Viewers", False),
]


class Command(BaseCommand):
    help = "Load demo contacts, tags, custom fields and staff accounts (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=300, help="How many contacts.")
        parser.add_argument("--password", help="Password for new accounts (default: random).")

    def handle(self, *args: Any, contacts: int, password: str | None, **options: Any) -> None:
        password = password or secrets.token_urlsafe(9)
        created_users = self._staff(password)
        with transaction.atomic():
            for name in DEFAULT_TAGS:
                services.tag_create(name=name, is_default=True)
            for label, field_type in ATTRIBUTES:
                if field_registry().resolve(label) is None:
                    services.attribute_create(label=label, type=field_type)
        added = self._contacts(contacts)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {added} contacts added ({Contact.objects.count()} in all), "
                f"{len(DEFAULT_TAGS)} default tags, {Attribute.objects.count()} custom fields."
            )
        )
        if created_users:
            self.stdout.write("Accounts (log in at the address the server prints):")
            for username in created_users:
                self.stdout.write(f"  {username:8} password: {password}")
        else:
            self.stdout.write("Accounts admin, manager, editor and viewer already exist.")

    def _staff(self, password: str) -> list[str]:
        created = []
        hashed = make_password(password)  # hash once: it is deliberately slow
        for username, group, superuser in STAFF:
            if User.objects.filter(username=username).exists():
                continue
            user = User.objects.create(
                username=username,
                email=f"{username}@example.com",
                password=hashed,
                is_superuser=superuser,
                is_staff=superuser or group == "Managers",
            )
            if group:
                user.groups.add(Group.objects.get(name=group))
            created.append(username)
        return created

    def _contacts(self, count: int) -> int:
        rng = random.Random(20241031)
        registry = field_registry()
        actor = Actor.system()
        now = datetime.now(UTC)
        added = 0
        existing = set(Contact.objects.values_list("phone", flat=True))
        people = [("Ajmal", "9876543210", "91")] + [
            (
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                str(rng.choice([6, 7, 8, 9])) + f"{rng.randrange(10**9):09d}",
                "91",
            )
            for _ in range(max(count - 1, 0))
        ]
        for name, number, code in people[:count]:
            if f"+{code}{number}" in existing:
                continue
            existing.add(f"+{code}{number}")
            values: dict[str, Any] = {"name": name, "whatsapp_opted": rng.random() < 0.7}
            if rng.random() < 0.8:
                values["email"] = name.lower().replace(" ", ".").replace("ü", "u") + (
                    f"{rng.randrange(100)}@example.com"
                )
            if rng.random() < 0.9:
                values["city"] = rng.choice(CITIES)
            if rng.random() < 0.7:
                orders = rng.randrange(0, 40)
                values["orders"] = orders
                values["lifetime_value"] = round(orders * rng.uniform(300, 2500), 2)
                values["last_order_date"] = (
                    now - timedelta(days=rng.randrange(400), minutes=rng.randrange(1440))
                ).isoformat()
            if rng.random() < 0.5:
                values["newsletter"] = rng.random() < 0.5
            if rng.random() < 0.4:
                values["date_of_birth"] = (
                    f"{rng.randrange(1960, 2005)}-"
                    f"{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                )
            if rng.random() < 0.6:
                values["interests"] = rng.sample(INTERESTS, rng.randrange(1, 4))
            tags = rng.sample(DEFAULT_TAGS, rng.choice([0, 1, 1, 2, 3]))
            services.contact_create(
                actor=actor,
                phone_number=number,
                country_code=code,
                values=values,
                tags=tags,
                registry=registry,
            )
            added += 1
        return added
