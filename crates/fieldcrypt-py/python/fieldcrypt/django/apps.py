"""The Django app: resets the keyring when settings change (tests), and checks models."""

from __future__ import annotations

from typing import Any, List

from django.apps import AppConfig, apps
from django.core import checks


class FieldcryptConfig(AppConfig):
    name = "fieldcrypt.django"
    label = "fieldcrypt"
    verbose_name = "fieldcrypt"

    def ready(self) -> None:
        from fieldcrypt.django import conf

        conf.connect_signals()
        checks.register(check_managers, checks.Tags.models)


def check_managers(app_configs: Any = None, **_: Any) -> List[Any]:
    """A model with encrypted fields whose default manager is not an EncryptedManager gets a
    warning: its order_by() on an encrypted field orders ciphertext instead of refusing."""
    from fieldcrypt.django.fields import EncryptedMixin
    from fieldcrypt.django.query import EncryptedQuerySet

    found: List[Any] = []
    models = (
        [m for config in app_configs for m in config.get_models()]
        if app_configs
        else apps.get_models()
    )
    for model in models:
        encrypted = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if not encrypted:
            continue
        queryset = model._default_manager.get_queryset()
        if not isinstance(queryset, EncryptedQuerySet):
            found.append(
                checks.Warning(
                    f"{model._meta.label} has encrypted fields but its default manager is not "
                    "an EncryptedManager: order_by() on them would order ciphertext, and "
                    "search() is missing",
                    hint="objects = fieldcrypt.django.EncryptedManager()",
                    obj=model,
                    id="fieldcrypt.W002",
                )
            )
    return found
