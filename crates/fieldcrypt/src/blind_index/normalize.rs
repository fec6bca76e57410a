//! Normalisers: make values that should match hash alike (`" Ann@X.org"` and `"ann@x.org"`).

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use crate::error::Error;

/// One normalisation step. Steps run in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Normalizer {
    /// Removes leading and trailing Unicode whitespace.
    Trim,
    /// Unicode default case folding (`ß` folds to `ss`, `K` (Kelvin) to `k`).
    CaseFold,
    /// Unicode NFKC: compatibility forms fold (fullwidth `１` becomes `1`, `ﬁ` becomes `fi`).
    Nfkc,
    /// Keeps ASCII digits only (after NFKC, other scripts' digits are ASCII). For phone numbers,
    /// card numbers, national ids typed with spaces or dashes.
    DigitsOnly,
}

impl Normalizer {
    /// The step's name in definitions and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Normalizer::Trim => "trim",
            Normalizer::CaseFold => "casefold",
            Normalizer::Nfkc => "nfkc",
            Normalizer::DigitsOnly => "digits",
        }
    }

    /// Parses a comma-separated list such as `nfkc,trim,casefold` (empty: no steps).
    pub fn parse_list(list: &str) -> Result<Vec<Normalizer>, Error> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| match name {
                "trim" => Ok(Normalizer::Trim),
                "casefold" | "lower" => Ok(Normalizer::CaseFold),
                "nfkc" => Ok(Normalizer::Nfkc),
                "digits" | "digits-only" => Ok(Normalizer::DigitsOnly),
                _ => Err(Error::BlindIndex(
                    "unknown normaliser (use trim, casefold, nfkc, digits)",
                )),
            })
            .collect()
    }

    fn apply<'a>(self, s: Cow<'a, str>) -> Cow<'a, str> {
        match self {
            Normalizer::Trim => match s {
                Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
                Cow::Owned(o) => Cow::Owned(o.trim().to_owned()),
            },
            Normalizer::CaseFold => {
                if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                    s
                } else if s.is_ascii() {
                    Cow::Owned(s.to_ascii_lowercase())
                } else {
                    Cow::Owned(caseless::default_case_fold_str(&s))
                }
            }
            Normalizer::Nfkc => {
                if s.is_ascii() {
                    s
                } else {
                    Cow::Owned(s.nfkc().collect())
                }
            }
            Normalizer::DigitsOnly => {
                if s.bytes().all(|b| b.is_ascii_digit()) {
                    s
                } else {
                    Cow::Owned(s.chars().filter(char::is_ascii_digit).collect())
                }
            }
        }
    }
}

/// The canonical list text, part of the index key derivation.
pub(crate) fn names(list: &[Normalizer]) -> String {
    list.iter().map(|n| n.name()).collect::<Vec<_>>().join(",")
}

/// Runs every step in order.
pub(crate) fn apply<'a>(list: &[Normalizer], s: &'a str) -> Cow<'a, str> {
    list.iter().fold(Cow::Borrowed(s), |acc, n| n.apply(acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FORMAT.md names the Unicode data versions the reference implementation uses. A dependency
    /// update that changes them fails here, so that the spec is updated with it, deliberately.
    #[test]
    fn unicode_data_versions_are_the_documented_ones() {
        assert_eq!(unicode_normalization::UNICODE_VERSION, (18, 0, 0));
        assert_eq!(caseless::UNICODE_VERSION, (16, 0, 0));
    }

    #[test]
    fn steps_do_what_they_say() -> Result<(), Error> {
        let all = Normalizer::parse_list("nfkc, trim ,casefold")?;
        assert_eq!(apply(&all, "  Ann@EXAMPLE.org \n"), "ann@example.org");
        assert_eq!(apply(&all, "Straße"), "strasse");
        assert_eq!(apply(&all, "\u{FF21}\u{FF11}"), "a1"); // fullwidth A1
        let digits = Normalizer::parse_list("nfkc,digits")?;
        assert_eq!(apply(&digits, "4111-1111 1111\u{FF11}"), "4111111111111");
        assert!(Normalizer::parse_list("soundex").is_err());
        Ok(())
    }
}
