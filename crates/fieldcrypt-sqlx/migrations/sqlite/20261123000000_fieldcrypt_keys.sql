-- fieldcrypt keyring documents (wrapped keys only; see FORMAT.md section 10).
-- One row per keyring; `version` is the compare-and-swap counter every write checks.
CREATE TABLE IF NOT EXISTS fieldcrypt_keys (
    name       TEXT    PRIMARY KEY NOT NULL,
    version    INTEGER NOT NULL,
    document   TEXT    NOT NULL,
    updated_at TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
