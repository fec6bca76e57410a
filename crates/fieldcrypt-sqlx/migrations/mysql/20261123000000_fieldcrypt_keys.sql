-- fieldcrypt keyring documents (wrapped keys only; see FORMAT.md section 10).
-- One row per keyring; `version` is the compare-and-swap counter every write checks.
-- MEDIUMTEXT: TEXT stops at 64 KiB, a few hundred wrapped keys.
CREATE TABLE IF NOT EXISTS fieldcrypt_keys (
    name       VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY,
    version    BIGINT       NOT NULL,
    document   MEDIUMTEXT   CHARACTER SET utf8mb4 NOT NULL,
    updated_at TIMESTAMP    NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
);
