"""Adds a few customers (once) and an admin user `admin` / `admin`, then shows what the database
holds and a search through the blind index."""

import datetime

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import connection

from customers.models import Customer

PEOPLE = [
    ("Ann", "Ann@Example.org", "078-05-1120", datetime.date(1985, 4, 12)),
    ("Bob", "bob@example.org", "219-09-9999", None),
    ("Carol", "carol@example.org", None, datetime.date(1990, 1, 30)),
]


class Command(BaseCommand):
    help = "Adds example customers and an admin user, and shows the encrypted columns."

    def handle(self, *args: object, **options: object) -> None:
        if not Customer.objects.exists():
            Customer.objects.bulk_create(
                [Customer(name=n, email=e, national_id=i, birthday=b) for n, e, i, b in PEOPLE]
            )
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.org", "admin")
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, email, national_id FROM customers_customer ORDER BY id")
            for name, email, national_id in cursor.fetchall():
                self.stdout.write(f"in the database: {name}: {email[:40]}... {str(national_id)[:24]}...")
        found = Customer.objects.search(email__iexact="  ANN@example.org ".strip())
        self.stdout.write(f"search(email__iexact='ann@example.org'): {[c.name for c in found]}")
        by_id = Customer.objects.filter(national_id="219-09-9999").get()
        self.stdout.write(f"filter(national_id='219-09-9999'): {by_id.name} <{by_id.email}>")
