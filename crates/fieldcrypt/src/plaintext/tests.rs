use super::civil::{civil_from_days, days_from_civil};
use super::*;

#[test]
fn json_without_an_encoding_is_refused_at_seal_time() {
    let mut by_pair = std::collections::BTreeMap::new();
    by_pair.insert((1, 2), "a");
    let mut out = Vec::new();
    assert_eq!(
        Json(by_pair).encode_payload(&mut out),
        Err(Error::Unencodable("json"))
    );
}

#[test]
fn json_text_drops_whitespace_between_tokens_only() {
    let text = " {\"a b\" : [ 1.10 , 123456789012345678901234567890.5, 1e400 ],\n\t\"s\": \"x \\\" y\\\\\" } ";
    let json = JsonText::new(text).unwrap();
    assert_eq!(
        json.as_str(),
        r#"{"a b":[1.10,123456789012345678901234567890.5,1e400],"s":"x \" y\\"}"#
    );
    // serde_json cannot read 1e400 into a Value at all; the text keeps it.
    assert!(json.parse::<serde_json::Value>().is_err());
    // Without it, serde_json reads the compact text as the same value as the original.
    let plain = " [ 1.5 , {\"k\" : \"a  b\"} ] ";
    assert_eq!(
        JsonText::new(plain)
            .unwrap()
            .parse::<serde_json::Value>()
            .unwrap(),
        serde_json::from_str::<serde_json::Value>(plain).unwrap()
    );
    for bad in ["", "{", "[1,]", "NaN", "01", "1 2", "{'a':1}", "\"\\x\""] {
        assert_eq!(
            JsonText::new(bad),
            Err(Error::InvalidValue("json")),
            "{bad:?}"
        );
    }
}

#[test]
fn json_text_opens_as_it_was_sealed_and_as_a_value() {
    let mut payload = b"[1.10, {\"k\": null}]".to_vec();
    let opened = JsonText::decode_payload(TypeTag::Json, &mut payload).unwrap();
    assert_eq!(
        opened.as_str(),
        "[1.10, {\"k\": null}]",
        "whitespace a writer left stays"
    );
    let mut out = Vec::new();
    JsonText::new("[1.10, {\"k\": null}]")
        .unwrap()
        .encode_payload(&mut out)
        .unwrap();
    assert_eq!(out, b"[1.10,{\"k\":null}]");
    let mut invalid = b"[1,".to_vec();
    assert!(JsonText::decode_payload(TypeTag::Json, &mut invalid).is_err());
    let mut not_utf8 = b"\"\xff\"".to_vec();
    assert!(JsonText::decode_payload(TypeTag::Json, &mut not_utf8).is_err());
    assert!(JsonText::decode_payload(TypeTag::String, &mut b"1".to_vec()).is_err());
}

#[test]
fn timestamps_outside_four_digit_years_print_with_a_sign() {
    let far = Timestamp::new(253_402_300_800, 0).unwrap(); // 10000-01-01
    assert_eq!(far.to_string(), "+10000-01-01T00:00:00Z");
    let before = Timestamp::new(-62_167_219_201, 5).unwrap(); // 0000-01-01 minus 1 s
    assert_eq!(before.to_string(), "-0001-12-31T23:59:59.000000005Z");
}

#[test]
fn timestamps_and_dates_read_back_what_they_print_at_every_extreme() {
    for seconds in [
        i64::MIN,
        i64::MIN + 1,
        -62_167_219_201,
        -62_167_219_200,
        -1,
        0,
        253_402_300_799,
        253_402_300_800,
        i64::MAX - 1,
        i64::MAX,
    ] {
        for nanos in [0, 1, 999_999_999] {
            let at = Timestamp::new(seconds, nanos).unwrap();
            let text = at.to_string();
            assert_eq!(text.parse::<Timestamp>(), Ok(at), "{text}");
        }
    }
    for days in [
        i32::MIN,
        -719_529,
        -719_528,
        -1,
        0,
        2_932_896,
        2_932_897,
        i32::MAX,
    ] {
        let date = Date::from_days_since_epoch(days);
        let text = date.to_string();
        assert_eq!(text.parse::<Date>(), Ok(date), "{text}");
    }
    // RFC 3339 proper (keyring documents) has four-digit years only.
    assert!(Timestamp::parse_rfc3339("+10000-01-01T00:00:00Z").is_err());
    assert!(Timestamp::parse_rfc3339("2024-01-01T00:00:00Z").is_ok());
    // Beyond what i64 seconds hold: an error, not an overflow.
    assert!(
        "+292277026597-01-01T00:00:00Z"
            .parse::<Timestamp>()
            .is_err()
    );
    assert!("+9999999-01-01".parse::<Date>().is_err());
}

#[test]
fn non_ascii_text_is_an_error_not_a_panic() {
    // Each of these panicked in the byte-slicing parser (a slice inside a multi-byte char).
    for text in [
        "2024-01-02T03:04:05+00é0",
        "2024-01-02T03:04:05é0:00",
        "2024-01-02T03:04:05.é",
        "2024-01-02T03:04:0é",
        "2024-01-02é03:04:05Z",
        "2024-01-0é",
        "é024-01-02T03:04:05Z",
        "+é0000-01-01T00:00:00Z",
    ] {
        assert!(text.parse::<Timestamp>().is_err(), "{text}");
        assert!(Timestamp::parse_rfc3339(text).is_err(), "{text}");
        assert!(text.parse::<Date>().is_err(), "{text}");
    }
    assert!(
        "2024-01-02T03:04:05.1234567890Z"
            .parse::<Timestamp>()
            .is_err()
    );
    assert!("2024-01-02T03:04:05+24:00".parse::<Timestamp>().is_err());
    assert!("2024-01-02T03:04:05+0100".parse::<Timestamp>().is_err());
}

#[test]
fn civil_round_trip_and_known_days() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    for z in (-800_000..800_000).step_by(997) {
        let (y, m, d) = civil_from_days(z);
        assert_eq!(days_from_civil(y, m, d), z);
    }
}

#[test]
fn timestamps_parse_with_offsets() -> Result<(), Error> {
    let a: Timestamp = "1985-10-26T01:20:00-07:00".parse()?;
    assert_eq!(a.seconds(), 499_162_800);
    let b: Timestamp = "2024-02-29T23:59:59.5Z".parse()?;
    assert_eq!(b.nanos(), 500_000_000);
    assert_eq!(b.to_string(), "2024-02-29T23:59:59.5Z");
    assert!("2023-02-29T00:00:00Z".parse::<Timestamp>().is_err());
    assert!("2024-01-01T24:00:00Z".parse::<Timestamp>().is_err());
    Ok(())
}

#[test]
fn decimals_are_checked() {
    for ok in [
        "0",
        "1.50",
        "-12.5",
        "0.000",
        "123456789012345678901234567890.1",
    ] {
        assert!(Decimal::new(ok).is_ok(), "{ok}");
    }
    for bad in [
        "", "-", "01", "1.", ".5", "1e5", "+1", "-0", "-0.00", "1,5", " 1",
    ] {
        assert!(Decimal::new(bad).is_err(), "{bad}");
    }
}
