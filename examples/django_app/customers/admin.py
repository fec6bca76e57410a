from django.contrib import admin

from fieldcrypt.django.admin import EncryptedAdminMixin, mask

from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(EncryptedAdminMixin, admin.ModelAdmin):
    list_display = ("name", mask("email", "email"), mask("national_id", "last4"))
    search_fields = ("name", "email")
