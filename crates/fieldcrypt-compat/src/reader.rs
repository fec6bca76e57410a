//! One reader per Django library and field: the library's keys from Django settings, its
//! storage format, and the field's kind, so that a stored value becomes the typed
//! [`fieldcrypt::Value`] Django's ORM would have read. [`ReadThrough`] adds fieldcrypt's own
//! envelopes, for applications part way through moving a column.

use fieldcrypt::{Context, Envelope, Keyring, Value};
use zeroize::Zeroizing;

use crate::cryptbase::{CryptbaseError, CryptbaseKey};
use crate::django::{
    encrypted_model_fields_keys, fernet_encrypted_fields_keys, fernet_fields_keys,
};
use crate::django_cryptography::{CryptographyError, CryptographyKeys, DEFAULT_SALT};
use crate::fernet::{MultiFernet, TokenError};
use crate::searchable::{SearchableError, SearchableKeys};
use crate::value::{FieldKind, NaiveZone, ValueError, from_python, parse_text};

/// The Django field-encryption libraries this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavor {
    /// django-encrypted-model-fields: Fernet under `FIELD_ENCRYPTION_KEY`, text column.
    EncryptedModelFields,
    /// django-fernet-fields: Fernet under HKDF of `FERNET_KEYS`, binary column.
    FernetFields,
    /// django-fernet-encrypted-fields: Fernet under PBKDF2 of `SECRET_KEY` x `SALT_KEY`, text.
    FernetEncryptedFields,
    /// django-cryptography: pickles, AES-256-CBC and HMAC, binary column.
    Cryptography,
    /// cryptbase: AES-256-CTR `base64@base64`, text column, unauthenticated.
    Cryptbase,
    /// django-searchable-encrypted-fields: AES-256-GCM with 16-byte nonces, binary column.
    Searchable,
}

impl Flavor {
    /// Every flavor, in the order the CLI lists them.
    pub const ALL: [Flavor; 6] = [
        Flavor::EncryptedModelFields,
        Flavor::FernetFields,
        Flavor::FernetEncryptedFields,
        Flavor::Cryptography,
        Flavor::Cryptbase,
        Flavor::Searchable,
    ];

    /// The name `fieldcrypt import django --flavor` takes.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::EncryptedModelFields => "encrypted-model-fields",
            Flavor::FernetFields => "fernet-fields",
            Flavor::FernetEncryptedFields => "fernet-encrypted-fields",
            Flavor::Cryptography => "cryptography",
            Flavor::Cryptbase => "cryptbase",
            Flavor::Searchable => "searchable",
        }
    }

    /// The flavor named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The Django settings the libraries read, by their Django names. Lists keep Django's order
/// (the first key encrypts). Secrets are zeroized when dropped and never printed.
#[derive(Default, Clone)]
pub struct DjangoSettings {
    /// `SECRET_KEY`.
    pub secret_key: Option<Zeroizing<String>>,
    /// `SECRET_KEY_FALLBACKS` (fernet-encrypted-fields tries them after `SECRET_KEY`).
    pub secret_key_fallbacks: Vec<Zeroizing<String>>,
    /// `FIELD_ENCRYPTION_KEY` (encrypted-model-fields): one Fernet key or several.
    pub field_encryption_key: Vec<Zeroizing<String>>,
    /// `FERNET_KEYS` (fernet-fields; default `[SECRET_KEY]`).
    pub fernet_keys: Vec<Zeroizing<String>>,
    /// `FERNET_USE_HKDF` (fernet-fields; default true).
    pub fernet_use_hkdf: Option<bool>,
    /// `SALT_KEY` (fernet-encrypted-fields): one salt or several.
    pub salt_key: Vec<Zeroizing<String>>,
    /// `CRYPTOGRAPHY_KEY` (cryptography; default `SECRET_KEY`).
    pub cryptography_key: Option<Zeroizing<String>>,
    /// `CRYPTOGRAPHY_SALT` (cryptography; default `django-cryptography`).
    pub cryptography_salt: Option<String>,
    /// The field's `key=` (cryptbase: 64 hex digits).
    pub cryptbase_key: Option<Zeroizing<String>>,
    /// `FIELD_ENCRYPTION_KEYS` (searchable: hex keys).
    pub field_encryption_keys: Vec<Zeroizing<String>>,
}

impl core::fmt::Debug for DjangoSettings {
    /// Which settings are present; never their values.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DjangoSettings")
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("secret_key_fallbacks", &self.secret_key_fallbacks.len())
            .field("field_encryption_key", &self.field_encryption_key.len())
            .field("fernet_keys", &self.fernet_keys.len())
            .field("fernet_use_hkdf", &self.fernet_use_hkdf)
            .field("salt_key", &self.salt_key.len())
            .field(
                "cryptography_key",
                &self.cryptography_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("cryptography_salt", &self.cryptography_salt)
            .field(
                "cryptbase_key",
                &self.cryptbase_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("field_encryption_keys", &self.field_encryption_keys.len())
            .finish()
    }
}

/// The environment variables [`DjangoSettings::from_env`] reads, named as in Django.
pub const SETTING_NAMES: [&str; 10] = [
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "FIELD_ENCRYPTION_KEY",
    "FERNET_KEYS",
    "FERNET_USE_HKDF",
    "SALT_KEY",
    "CRYPTOGRAPHY_KEY",
    "CRYPTOGRAPHY_SALT",
    "CRYPTBASE_KEY",
    "FIELD_ENCRYPTION_KEYS",
];

impl DjangoSettings {
    /// The settings from variables named as in Django (see [`SETTING_NAMES`]), looked up with
    /// `lookup` (e.g. `std::env::var`). A list is a JSON array of strings (`["k1","k2"]`);
    /// anything else is a list of one, since keys and secrets may hold commas.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, CompatError> {
        let one = |name| lookup(name).map(Zeroizing::new);
        let list = |name: &'static str| -> Result<Vec<Zeroizing<String>>, CompatError> {
            let Some(raw) = lookup(name).map(Zeroizing::new) else {
                return Ok(Vec::new());
            };
            parse_list(name, &raw)
        };
        Ok(Self {
            secret_key: one("SECRET_KEY"),
            secret_key_fallbacks: list("SECRET_KEY_FALLBACKS")?,
            field_encryption_key: list("FIELD_ENCRYPTION_KEY")?,
            fernet_keys: list("FERNET_KEYS")?,
            fernet_use_hkdf: match lookup("FERNET_USE_HKDF").as_deref().map(str::trim) {
                None => None,
                Some("1" | "true" | "True") => Some(true),
                Some("0" | "false" | "False") => Some(false),
                Some(_) => {
                    return Err(CompatError::BadSetting(
                        "FERNET_USE_HKDF",
                        "not true or false",
                    ));
                }
            },
            salt_key: list("SALT_KEY")?,
            cryptography_key: one("CRYPTOGRAPHY_KEY"),
            cryptography_salt: lookup("CRYPTOGRAPHY_SALT"),
            cryptbase_key: one("CRYPTBASE_KEY"),
            field_encryption_keys: list("FIELD_ENCRYPTION_KEYS")?,
        })
    }
}

/// A setting's text as a list: a JSON array of strings, or one value.
pub fn parse_list(name: &'static str, raw: &str) -> Result<Vec<Zeroizing<String>>, CompatError> {
    if !raw.trim_start().starts_with('[') {
        return Ok(vec![Zeroizing::new(raw.to_owned())]);
    }
    let items: Vec<String> = serde_json::from_str(raw).map_err(|_| {
        CompatError::BadSetting(name, "starts with '[' but is not a JSON array of strings")
    })?;
    Ok(items.into_iter().map(Zeroizing::new).collect())
}

/// Why a value (or a reader) could not be made. Never holds key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompatError {
    /// A setting the flavor needs is missing.
    #[error("the {flavor} reader needs {setting}")]
    MissingSetting {
        /// The Django setting.
        setting: &'static str,
        /// The flavor.
        flavor: &'static str,
    },
    /// A setting's value is unusable.
    #[error("setting {0}: {1}")]
    BadSetting(&'static str, &'static str),
    /// The library has no field of that kind.
    #[error("{flavor} has no {kind} field")]
    UnsupportedKind {
        /// The flavor.
        flavor: &'static str,
        /// The kind asked for.
        kind: &'static str,
    },
    /// A Fernet token that does not decrypt.
    #[error(transparent)]
    Fernet(#[from] TokenError),
    /// A django-cryptography value that does not read.
    #[error(transparent)]
    Cryptography(#[from] CryptographyError),
    /// A cryptbase value that does not read.
    #[error(transparent)]
    Cryptbase(#[from] CryptbaseError),
    /// A django-searchable-encrypted-fields value that does not read.
    #[error(transparent)]
    Searchable(#[from] SearchableError),
    /// The decrypted bytes are not UTF-8 text.
    #[error("the decrypted value is not UTF-8 text")]
    NotText,
    /// The decrypted value is not of the field's kind.
    #[error(transparent)]
    Value(#[from] ValueError),
}

enum Decoder {
    /// Fernet tokens as text (emf) or bytes (ff).
    Fernet(MultiFernet),
    /// fernet-encrypted-fields' JSON field: a JSON document whose leaves are tokens.
    FernetJsonLeaves(MultiFernet),
    Cryptography(Box<CryptographyKeys>),
    Cryptbase(CryptbaseKey),
    Searchable(SearchableKeys),
}

/// Options for reading.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// How naive datetimes read (the connection's zone; UTC by default).
    pub naive_zone: NaiveZone,
    /// Take a value that is not in the library's format at all as the plaintext itself, as
    /// encrypted-model-fields and fernet-encrypted-fields do on read (rows written before the
    /// field was encrypted). Off by default. A value in the format that fails to verify is an
    /// error either way: the libraries hand such values out as if they were plaintext, which
    /// fieldcrypt does not.
    pub plaintext_passthrough: bool,
}

/// Reads one column that a Django library encrypted.
pub struct LegacyReader {
    flavor: Flavor,
    kind: FieldKind,
    decoder: Decoder,
    options: ReadOptions,
}

impl core::fmt::Debug for LegacyReader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LegacyReader")
            .field("flavor", &self.flavor)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn strs(list: &[Zeroizing<String>]) -> Vec<&str> {
    list.iter().map(|s| s.as_str()).collect()
}

impl LegacyReader {
    /// The reader for a `kind` field of `flavor`, with keys derived from `settings` as the
    /// library derives them.
    pub fn new(
        flavor: Flavor,
        kind: FieldKind,
        settings: &DjangoSettings,
        options: ReadOptions,
    ) -> Result<Self, CompatError> {
        let name = flavor.name();
        let missing = |setting| CompatError::MissingSetting {
            setting,
            flavor: name,
        };
        let unsupported = || CompatError::UnsupportedKind {
            flavor: name,
            kind: kind.name(),
        };
        let multi = |keys: Vec<_>, setting| MultiFernet::new(keys).ok_or_else(|| missing(setting));
        let decoder = match flavor {
            Flavor::EncryptedModelFields => {
                if kind == FieldKind::Json {
                    return Err(unsupported());
                }
                let keys = encrypted_model_fields_keys(&strs(&settings.field_encryption_key))
                    .map_err(|_| {
                        CompatError::BadSetting("FIELD_ENCRYPTION_KEY", "not Fernet keys")
                    })?;
                Decoder::Fernet(multi(keys, "FIELD_ENCRYPTION_KEY")?)
            }
            Flavor::FernetFields => {
                if kind == FieldKind::Json {
                    return Err(unsupported());
                }
                let secret = settings.secret_key.as_ref().map(|s| vec![s.as_str()]);
                let fernet_keys = if settings.fernet_keys.is_empty() {
                    secret.ok_or_else(|| missing("FERNET_KEYS or SECRET_KEY"))?
                } else {
                    strs(&settings.fernet_keys)
                };
                let keys =
                    fernet_fields_keys(&fernet_keys, settings.fernet_use_hkdf.unwrap_or(true))
                        .map_err(|_| {
                            CompatError::BadSetting(
                                "FERNET_KEYS",
                                "not Fernet keys (FERNET_USE_HKDF is false)",
                            )
                        })?;
                Decoder::Fernet(multi(keys, "FERNET_KEYS")?)
            }
            Flavor::FernetEncryptedFields => {
                let secret = settings
                    .secret_key
                    .as_ref()
                    .ok_or_else(|| missing("SECRET_KEY"))?;
                if settings.salt_key.is_empty() {
                    return Err(missing("SALT_KEY"));
                }
                let mut secrets = vec![secret.as_str()];
                secrets.extend(strs(&settings.secret_key_fallbacks));
                let keys = fernet_encrypted_fields_keys(&secrets, &strs(&settings.salt_key));
                let keys = multi(keys, "SALT_KEY")?;
                if kind == FieldKind::Json {
                    Decoder::FernetJsonLeaves(keys)
                } else {
                    Decoder::Fernet(keys)
                }
            }
            Flavor::Cryptography => {
                let secret = settings
                    .secret_key
                    .as_ref()
                    .ok_or_else(|| missing("SECRET_KEY"))?;
                Decoder::Cryptography(Box::new(CryptographyKeys::from_settings(
                    secret,
                    settings.cryptography_key.as_ref().map(|k| k.as_str()),
                    settings
                        .cryptography_salt
                        .as_deref()
                        .unwrap_or(DEFAULT_SALT),
                )))
            }
            Flavor::Cryptbase => {
                if kind != FieldKind::Text {
                    return Err(unsupported());
                }
                let key = settings
                    .cryptbase_key
                    .as_ref()
                    .ok_or_else(|| missing("CRYPTBASE_KEY"))?;
                Decoder::Cryptbase(CryptbaseKey::from_hex(key)?)
            }
            Flavor::Searchable => {
                if kind == FieldKind::Json {
                    return Err(unsupported());
                }
                Decoder::Searchable(SearchableKeys::from_hex(&strs(
                    &settings.field_encryption_keys,
                ))?)
            }
        };
        Ok(Self {
            flavor,
            kind,
            decoder,
            options,
        })
    }

    /// The library this reader reads.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// Reads a stored (non-NULL) value: text columns as their UTF-8 bytes, binary columns as
    /// they are.
    pub fn read(&self, stored: &[u8]) -> Result<Value, CompatError> {
        self.read_as(stored, self.options.plaintext_passthrough)
    }

    /// [`Self::read`], taking a value outside the library's format as plaintext only when
    /// `passthrough`.
    fn read_as(&self, stored: &[u8], passthrough: bool) -> Result<Value, CompatError> {
        let naive = &self.options.naive_zone;
        let text = |bytes: &[u8]| -> Result<Value, CompatError> {
            let text = std::str::from_utf8(bytes).map_err(|_| CompatError::NotText)?;
            Ok(parse_text(self.kind, text, naive)?)
        };
        match &self.decoder {
            Decoder::Fernet(keys) => match keys.decrypt(stored.trim_ascii()) {
                Ok(plain) => text(&plain),
                Err(TokenError::Malformed) if passthrough => text(stored),
                Err(e) => Err(e.into()),
            },
            Decoder::FernetJsonLeaves(keys) => {
                let text = std::str::from_utf8(stored).map_err(|_| CompatError::NotText)?;
                let document: serde_json::Value =
                    serde_json::from_str(text).map_err(|_| ValueError {
                        kind: "json",
                        why: "the column does not hold JSON",
                    })?;
                Ok(Value::Json(fieldcrypt::JsonText::from_value(
                    &self.decrypt_leaves(keys, document, 0, passthrough)?,
                )))
            }
            Decoder::Cryptography(keys) => {
                let value = keys.decrypt(stored)?;
                Ok(from_python(self.kind, value, naive)?)
            }
            Decoder::Cryptbase(key) => {
                let stored = std::str::from_utf8(stored).map_err(|_| CompatError::NotText)?;
                match key.decrypt(stored) {
                    Ok(plain) => text(plain.as_bytes()),
                    Err(CryptbaseError::Malformed) if passthrough => text(stored.as_bytes()),
                    Err(e) => Err(e.into()),
                }
            }
            Decoder::Searchable(keys) => text(keys.decrypt(stored)?.as_bytes()),
        }
    }

    /// fernet-encrypted-fields' JSON: every leaf is a token of `str(leaf)`, and reads back as
    /// that string (so `1`, `True` and `None` come back as `"1"`, `"True"` and `"None"`, as
    /// the library returns them).
    fn decrypt_leaves(
        &self,
        keys: &MultiFernet,
        value: serde_json::Value,
        depth: usize,
        passthrough: bool,
    ) -> Result<serde_json::Value, CompatError> {
        use serde_json::Value as J;
        if depth > crate::pickle::MAX_DEPTH {
            return Err(ValueError {
                kind: "json",
                why: "nested too deeply",
            }
            .into());
        }
        Ok(match value {
            J::Array(items) => J::Array(
                items
                    .into_iter()
                    .map(|v| self.decrypt_leaves(keys, v, depth + 1, passthrough))
                    .collect::<Result<_, _>>()?,
            ),
            J::Object(items) => J::Object(
                items
                    .into_iter()
                    .map(|(k, v)| Ok((k, self.decrypt_leaves(keys, v, depth + 1, passthrough)?)))
                    .collect::<Result<_, CompatError>>()?,
            ),
            J::String(token) => match keys.decrypt(token.as_bytes()) {
                Ok(plain) => {
                    J::String(String::from_utf8(plain.to_vec()).map_err(|_| CompatError::NotText)?)
                }
                Err(TokenError::Malformed) if passthrough => J::String(token),
                Err(e) => return Err(e.into()),
            },
            other if passthrough => other,
            _ => return Err(CompatError::Fernet(TokenError::Malformed)),
        })
    }
}

/// Where a [`ReadThrough`] found its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A fieldcrypt envelope.
    Fieldcrypt,
    /// The Django library's format: re-seal it when convenient.
    Legacy(Flavor),
}

/// Why a [`ReadThrough`] could not open a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadThroughError {
    /// A fieldcrypt envelope that does not open (wrong key, context, or altered).
    #[error(transparent)]
    Fieldcrypt(#[from] fieldcrypt::Error),
    /// Not an envelope, and not a value of the library either.
    #[error(transparent)]
    Legacy(#[from] CompatError),
}

/// Opens a value that is either a fieldcrypt envelope or the Django library's format, for
/// applications part way through an import: one call, whichever the row holds.
#[derive(Debug)]
pub struct ReadThrough {
    legacy: LegacyReader,
}

impl ReadThrough {
    /// A read-through over `legacy`.
    pub fn new(legacy: LegacyReader) -> Self {
        Self { legacy }
    }

    /// The legacy reader.
    pub fn legacy(&self) -> &LegacyReader {
        &self.legacy
    }

    /// Opens `stored`: as an envelope with `keyring` and `context` when it parses as one, else
    /// with the legacy reader. A legacy binary value that happens to parse as an envelope and
    /// does not open is tried as legacy too, but never as passthrough plaintext: an envelope
    /// that does not open (wrong key or context, altered, retired key) is that error. So is an
    /// envelope whose header is whole but whose body no longer parses (altered base64, cut
    /// short): it is never taken for plaintext.
    pub fn open(
        &self,
        keyring: &Keyring,
        context: &Context,
        stored: &[u8],
    ) -> Result<(Value, Source), ReadThroughError> {
        if Envelope::parse(stored).is_ok() {
            return match keyring.open::<Value>(context, stored) {
                Ok(value) => Ok((value, Source::Fieldcrypt)),
                Err(error) => match self.legacy.read_as(stored, false) {
                    Ok(value) => Ok((value, Source::Legacy(self.legacy.flavor))),
                    Err(_) => Err(error.into()),
                },
            };
        }
        if let Err(damage) = envelope_with_whole_header(stored) {
            return match self.legacy.read_as(stored, false) {
                Ok(value) => Ok((value, Source::Legacy(self.legacy.flavor))),
                Err(_) => Err(fieldcrypt::Error::Malformed(damage).into()),
            };
        }
        Ok((
            self.legacy.read(stored)?,
            Source::Legacy(self.legacy.flavor),
        ))
    }
}

/// `Err(why it does not parse)` when `stored` does not parse as an envelope but starts with a
/// whole envelope header: the text form's `fc`, version, suite letter, key id and `.`, or the
/// binary form's magic, version and a known suite. Such a value is a damaged envelope, not
/// plaintext; anything else is `Ok(())`.
fn envelope_with_whole_header(stored: &[u8]) -> Result<(), fieldcrypt::ParseError> {
    use fieldcrypt::envelope::{MAGIC, TEXT_PREFIX, VERSION};
    let Err(damage) = Envelope::parse(stored) else {
        return Ok(());
    };
    let text_header = stored
        .strip_prefix(TEXT_PREFIX.as_bytes())
        .and_then(|rest| match rest {
            [version, letter, rest @ ..]
                if *version == b'0' + VERSION
                    && fieldcrypt::Suite::from_letter(*letter).is_some() =>
            {
                let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                Some(digits > 0 && rest.get(digits) == Some(&b'.'))
            }
            _ => None,
        })
        .unwrap_or(false);
    let binary_header = matches!(stored, [MAGIC, VERSION, suite, _, _, _, _, ..]
        if fieldcrypt::Suite::from_id(*suite).is_some());
    if text_header || binary_header {
        Err(damage)
    } else {
        Ok(())
    }
}
