-- The table the query! macros in tests/macros.rs are checked against (at compile time, live or
-- through the cached data in ../.sqlx) and run against. Applied by scripts/sqlx-prepare.sh and
-- by the test itself.
DROP TABLE IF EXISTS fc_macro_customers;
CREATE TABLE fc_macro_customers (
    id BIGINT PRIMARY KEY,
    email BYTEA NOT NULL,
    email_idx BIGINT NOT NULL,
    notes TEXT
);
