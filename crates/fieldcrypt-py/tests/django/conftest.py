"""fieldcrypt.django tests: pytest-django on the database FIELDCRYPT_TEST_DB names."""
