//! The integration suite on SQLite, in a temporary file.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

backend_suite!(sqlx::Sqlite, SQLITE, {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    // One file per test: the suite's tests run in parallel and each creates its own tables.
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("test.db"))
        .create_if_missing(true);
    // Keep the directory for the life of the process; the OS cleans /tmp.
    std::mem::forget(dir);
    Some(
        SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap(),
    )
});
