//! JSON texts that every parser reads the same way: no duplicate member names.
//!
//! Parsers disagree on `{"a": 1, "a": 2}` (the first wins, the last wins, or an error), so a
//! document with duplicates can mean one thing to the tool that checked it and another to the
//! one that uses it. Keyring documents refuse them (FORMAT.md section 10.1); serde_json alone
//! would keep the last of a flattened map's duplicates and ignore unknown members' silently.

use std::collections::BTreeSet;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

/// The largest document read: FORMAT.md requires 1 MiB to be accepted and allows refusing more.
pub(crate) const MAX_DOCUMENT_LEN: usize = 16 * 1024 * 1024;

/// Checks that `text` is one JSON value with no object holding a member name twice; returns
/// serde_json's message (with line and column) otherwise. Nesting is limited by serde_json's
/// recursion limit (128).
pub(crate) fn refuse_duplicates(text: &str) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    NoDuplicates
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| e.to_string())
}

struct NoDuplicates;

impl<'de> DeserializeSeed<'de> for NoDuplicates {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NoDuplicates {
    type Value = ();

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicates)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if seen.contains(&name) {
                return Err(A::Error::custom(format!("duplicate member name {name:?}")));
            }
            map.next_value_seed(NoDuplicates)?;
            seen.insert(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::refuse_duplicates;

    #[test]
    fn duplicates_are_refused_at_any_depth_and_nothing_else_is() {
        assert!(refuse_duplicates(r#"{"a":1,"b":[{"a":1},{"a":2}],"c":{"d":null}}"#).is_ok());
        for bad in [
            r#"{"a":1,"a":1}"#,
            r#"{"k":{"x":"1","x":"2"}}"#,
            r#"[{"a":true,"b":0,"a":false}]"#,
            r#"{"a":"\u0061","\u0061":1}"#,
        ] {
            let error = refuse_duplicates(bad).unwrap_err();
            assert!(error.contains("duplicate member name"), "{bad}: {error}");
        }
        assert!(refuse_duplicates("{} {}").is_err(), "one value only");
        assert!(
            refuse_duplicates("\u{feff}{}").is_err(),
            "no byte order mark"
        );
    }
}
