//! Database URLs as `fieldcrypt backup` and `restore` take them: any text parses to a database or
//! to a typed error, never a panic, and what a parsed URL shows (kind, name, location, Debug)
//! is computed without one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(database) = fieldcrypt_backup::Database::parse(url) {
        let _ = (database.kind(), database.name(), database.location());
        let _ = format!("{database:?}");
    }
});
