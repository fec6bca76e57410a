-- fieldcrypt keyring documents (wrapped keys only; see FORMAT.md section 10).
-- One row per keyring; `version` is the compare-and-swap counter every write checks.
CREATE TABLE IF NOT EXISTS fieldcrypt_keys (
    name       VARCHAR(200) PRIMARY KEY,
    version    BIGINT       NOT NULL,
    document   TEXT         NOT NULL,
    updated_at TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP
);
