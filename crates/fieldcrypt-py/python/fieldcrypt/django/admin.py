"""``EncryptedAdminMixin``: encrypted fields edit as their plain types (their form fields are
the plain ones); ``search_fields`` naming an encrypted field search through its blind index
(``search()``, exact matches only); ``mask()`` helpers for ``list_display``."""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

from django.contrib import admin

from fieldcrypt.django.fields import EncryptedMixin
from fieldcrypt.django.query import search


class EncryptedAdminMixin:
    """Mix into a ``ModelAdmin`` before ``admin.ModelAdmin``."""

    model: Any
    search_fields: Any

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> Tuple[Any, bool]:
        names = list(getattr(self, "search_fields", None) or [])
        encrypted: List[str] = []
        plain: List[str] = []
        for name in names:
            bare = name.lstrip("=^@")
            field = _field(self.model, bare)
            (encrypted if isinstance(field, EncryptedMixin) else plain).append(name)
        self.search_fields = plain
        try:
            result, duplicates = super().get_search_results(  # type: ignore[misc]
                request, queryset, search_term
            ) if plain else (queryset.none(), False)
        finally:
            self.search_fields = names
        term = search_term.strip()
        if encrypted and term:
            pks: List[Any] = []
            for name in encrypted:
                field = _field(self.model, name.lstrip("=^@"))
                lookup = "iexact" if any(i.casefolds for i in field.blind_indexes()) else "exact"
                if not field.blind_indexes():
                    continue
                pks.extend(o.pk for o in search(queryset, **{f"{field.name}__{lookup}": term}))
            result = result | queryset.filter(pk__in=pks)
        elif not plain:
            result = queryset
        return result, duplicates


def _field(model: Any, name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def mask(field_name: str, how: str = "last4", description: str = "") -> Callable[[Any], str]:
    """A ``list_display`` column showing a masked value: ``last4`` (``•••• 1234``) or
    ``email`` (``•••@example.org``)."""

    def show(obj: Any) -> str:
        value = getattr(obj, field_name)
        if value is None:
            return ""
        text = str(value)
        if how == "email":
            _, at, domain = text.rpartition("@")
            return f"•••@{domain}" if at else "•••"
        if how == "last4":
            return f"•••• {text[-4:]}" if len(text) > 4 else "••••"
        raise ValueError(f"mask how={how!r}: last4 or email")

    show.short_description = description or field_name.replace("_", " ")  # type: ignore[attr-defined]
    return admin.display(description=show.short_description)(show)  # type: ignore[attr-defined,no-any-return]
