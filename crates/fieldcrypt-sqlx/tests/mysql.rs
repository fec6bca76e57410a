//! The integration suite on MariaDB/MySQL (`FIELDCRYPT_TEST_MYSQL_URL`, default the local server).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

backend_suite!(sqlx::MySql, MYSQL, {
    let url = url(
        "FIELDCRYPT_TEST_MYSQL_URL",
        "mysql://root@127.0.0.1:3306/test",
    );
    match sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
    {
        Ok(pool) => Some(pool),
        Err(err) => {
            unreachable("MariaDB/MySQL", &url, &err);
            None
        }
    }
});
