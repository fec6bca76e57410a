"""System checks, migrations without secrets or churn, and the admin."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import models
from django.test import Client, override_settings

import fieldcrypt.django as fd
from fieldcrypt.django import conf
from testapp.models import Customer

HERE = Path(__file__).resolve().parent


def check_ids(model):
    return {e.id for f in model._meta.get_fields() if hasattr(f, "check") for e in f.check()}


def test_checks_name_what_cannot_work():
    class Unique(models.Model):
        email = fd.EncryptedEmailField(unique=True)
        code = fd.EncryptedCharField(max_length=10, db_index=True)
        idx = fd.BlindIndexField(source="code", bits=8, unique=True)
        wrong = fd.BlindIndexField(source="missing", bits=8)
        number = fd.EncryptedIntegerField(null=True)
        number_idx = fd.BlindIndexField(source="number", bits=8)

        class Meta:
            app_label = "testapp"
            ordering = ["-email"]

    ids = check_ids(Unique)
    assert {"fieldcrypt.E001", "fieldcrypt.E002", "fieldcrypt.E004", "fieldcrypt.E010",
            "fieldcrypt.E011", "fieldcrypt.E012"} <= ids


def test_keyring_that_cannot_open_is_a_check_error(tmp_path):
    with override_settings(FIELDCRYPT={"KEYRING": tmp_path / "absent.json"}):
        errors = Customer._meta.get_field("email").check()
        assert [e.id for e in errors] == ["fieldcrypt.E005"]
        assert "absent.json" in errors[0].msg
    conf.reset()
    assert Customer._meta.get_field("email").check() == []


def test_default_manager_warning():
    from fieldcrypt.django.apps import check_managers

    class NoManager(models.Model):
        secret = fd.EncryptedTextField()

        class Meta:
            app_label = "testapp"

    warnings = [w for w in check_managers() if w.obj is NoManager]
    assert [w.id for w in warnings] == ["fieldcrypt.W002"]


@pytest.mark.django_db
def test_migrations_have_no_secret_and_no_churn():
    out = StringIO()
    call_command("makemigrations", "testapp", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
    text = "".join(p.read_text() for p in (HERE / "testapp" / "migrations").glob("0*.py"))
    conf.keyring()  # created on first use
    keys = Path(conf.settings_entry()["MASTER_KEY"]).read_bytes()
    assert keys.strip().decode(errors="ignore") not in text
    keyring_text = Path(conf.settings_entry()["KEYRING"]).read_text()
    for wrapped in re.findall(r'"(?:wrapped|material|key)"\s*:\s*"([^"]{16,})"', keyring_text):
        assert wrapped not in text
    from django.conf import settings

    for name in conf.LEGACY_SETTING_NAMES:  # the legacy libraries' keys (test_legacy.py)
        value = getattr(settings, name, None)
        for secret in value if isinstance(value, list) else [value]:
            assert not isinstance(secret, str) or secret not in text, name
    assert "KEYRING" not in text and str(settings.FIELDCRYPT["KEYRING"]) not in text


@pytest.mark.django_db
def test_admin_edits_plain_types_searches_through_the_index_and_masks():
    User.objects.create_superuser("admin", "admin@example.org", "pw")
    ann = Customer.objects.create(name="ann", email="Ann@Example.org", national_id="123456789")
    Customer.objects.create(name="bob", email="bob@example.org", national_id="987654321")
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    page = client.get("/admin/testapp/customer/", {"q": "ANN@example.org"}).content.decode()
    assert "•••@Example.org" in page and "•••• 6789" in page
    assert "bob" not in page.split("result_list")[1] if "result_list" in page else True
    assert "1 result" in page or "1 customer" in page
    by_name = client.get("/admin/testapp/customer/", {"q": "bob"}).content.decode()
    assert "•••@example.org" in by_name and "•••• 4321" in by_name
    form = client.get(f"/admin/testapp/customer/{ann.pk}/change/").content.decode()
    assert 'value="Ann@Example.org"' in form
    response = client.post(
        f"/admin/testapp/customer/{ann.pk}/change/",
        {"name": "ann", "email": "ann@new.example.org", "national_id": "123456789"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.search(email="ann@new.example.org") == [ann]
