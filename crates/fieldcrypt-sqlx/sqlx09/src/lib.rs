//! Only a home for the sqlx 0.9 run of the suite in ../tests.
