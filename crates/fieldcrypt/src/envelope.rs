//! The envelope: a versioned header, the nonce, the ciphertext, the tag and (for committing
//! suites) the key commitment. Binary form for bytea/BLOB columns, text form for text columns.
//!
//! ```text
//! binary: FC | version (0x01) | suite | key id (u32 BE) | nonce (24) | ciphertext | tag (16) | commitment (32, KC only)
//! text:   "fc" version-digit suite-letter key-id-decimal "." base64url-nopad(nonce | ciphertext | tag | commitment)
//! ```
//!
//! Both forms carry the same seven header bytes, which open the associated data, so a value can
//! move between forms without re-encryption. The text prefix (`fc1c7.` for key 7 under
//! KC-XAES-256-GCM) lets `WHERE col LIKE 'fc1c7.%'` find every value under a key without
//! decrypting anything. `docs/FORMAT.md` is the normative description.

use std::borrow::Cow;
use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::aead::{COMMITMENT_LEN, NONCE_LEN, TAG_LEN};
use crate::error::ParseError;

/// First byte of every binary envelope. It can never start valid UTF-8, so a binary envelope is
/// never mistaken for text that an application stored by mistake.
pub const MAGIC: u8 = 0xFC;
/// The format version this build writes and reads.
pub const VERSION: u8 = 1;
/// Length of the binary header.
pub const HEADER_LEN: usize = 7;
/// Prefix of every text envelope.
pub const TEXT_PREFIX: &str = "fc";

/// A key id: names a data key within a keyring. Never 0; never reused after a key is retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(NonZeroU32);

impl KeyId {
    /// Key id `n`, or `None` for 0.
    pub fn new(n: u32) -> Option<Self> {
        NonZeroU32::new(n).map(Self)
    }

    /// The id as a number.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl core::fmt::Display for KeyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An AEAD suite, named in every envelope header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
#[non_exhaustive]
pub enum Suite {
    /// KC-XAES-256-GCM: XAES-256-GCM with a 32-byte key commitment. The default.
    #[serde(rename = "kc-xaes-256-gcm")]
    KcXaes256Gcm = 0x01,
    /// XAES-256-GCM without commitment; only for keys that the application alone holds.
    #[serde(rename = "xaes-256-gcm")]
    Xaes256Gcm = 0x02,
}

impl Default for Suite {
    /// KC-XAES-256-GCM: a value opens under exactly one key.
    fn default() -> Self {
        Suite::KcXaes256Gcm
    }
}

impl Suite {
    /// All suites.
    pub const ALL: [Suite; 2] = [Suite::KcXaes256Gcm, Suite::Xaes256Gcm];

    /// The suite with this header id.
    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as u8 == id)
    }

    /// The header id.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The letter in the text form.
    pub fn letter(self) -> char {
        match self {
            Suite::KcXaes256Gcm => 'c',
            Suite::Xaes256Gcm => 'x',
        }
    }

    /// The suite with this text-form letter.
    pub fn from_letter(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.letter() as u8 == c)
    }

    /// Whether a ciphertext opens under exactly one key.
    pub fn commits(self) -> bool {
        matches!(self, Suite::KcXaes256Gcm)
    }

    /// Bytes after the ciphertext: the tag, and the commitment when the suite commits.
    pub fn trailer_len(self) -> usize {
        TAG_LEN + if self.commits() { COMMITMENT_LEN } else { 0 }
    }

    /// The suite's name as written in specifications.
    pub fn name(self) -> &'static str {
        match self {
            Suite::KcXaes256Gcm => "KC-XAES-256-GCM",
            Suite::Xaes256Gcm => "XAES-256-GCM",
        }
    }

    /// The lower-case name used in files and on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Suite::KcXaes256Gcm => "kc-xaes-256-gcm",
            Suite::Xaes256Gcm => "xaes-256-gcm",
        }
    }
}

impl core::fmt::Display for Suite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(self.name())
    }
}

/// The header every envelope starts with (in either form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// The AEAD suite.
    pub suite: Suite,
    /// The data key.
    pub key_id: KeyId,
}

impl Header {
    /// The seven header bytes; the associated data starts with them.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let id = self.key_id.get().to_be_bytes();
        [MAGIC, VERSION, self.suite.id(), id[0], id[1], id[2], id[3]]
    }

    /// The text-form prefix through the `.`, e.g. `fc1c7.`: every text value under this key and
    /// suite starts with it.
    pub fn text_prefix(self) -> String {
        format!(
            "{TEXT_PREFIX}{VERSION}{}{}.",
            self.suite.letter(),
            self.key_id
        )
    }

    /// Smallest body (nonce, ciphertext, trailer) a value under this suite can have: the
    /// ciphertext holds at least the type tag byte.
    pub fn min_body_len(self) -> usize {
        NONCE_LEN + 1 + self.suite.trailer_len()
    }
}

/// A parsed envelope: the header and the body (nonce, ciphertext, tag, commitment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    header: Header,
    body: Cow<'a, [u8]>,
}

impl<'a> Envelope<'a> {
    /// Parses either form: binary if it starts with 0xFC, text if it starts with `fc`.
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        match input.first() {
            None => Err(ParseError::Empty),
            Some(&MAGIC) => Self::parse_binary(input),
            Some(_) if input.starts_with(TEXT_PREFIX.as_bytes()) => {
                let text = core::str::from_utf8(input).map_err(|_| ParseError::BadBase64)?;
                Envelope::parse_text(text).map(Envelope::into_owned)
            }
            Some(_) => Err(ParseError::BadMagic),
        }
    }

    /// Parses the binary form.
    pub fn parse_binary(input: &'a [u8]) -> Result<Self, ParseError> {
        let (&magic, rest) = input.split_first().ok_or(ParseError::Empty)?;
        if magic != MAGIC {
            return Err(ParseError::BadMagic);
        }
        if rest.len() < HEADER_LEN - 1 {
            return Err(ParseError::Truncated {
                needed: HEADER_LEN,
                got: input.len(),
            });
        }
        let version = rest[0];
        if version != VERSION {
            return Err(ParseError::UnsupportedVersion(version));
        }
        let suite = Suite::from_id(rest[1]).ok_or(ParseError::UnknownSuite(rest[1]))?;
        let id = u32::from_be_bytes([rest[2], rest[3], rest[4], rest[5]]);
        let key_id = KeyId::new(id).ok_or(ParseError::ZeroKeyId)?;
        let header = Header { suite, key_id };
        let body = &input[HEADER_LEN..];
        check_body_len(header, body.len(), HEADER_LEN)?;
        Ok(Self {
            header,
            body: Cow::Borrowed(body),
        })
    }

    /// Parses the text form. The body is decoded, so the result owns its bytes.
    pub fn parse_text(input: &str) -> Result<Envelope<'static>, ParseError> {
        let rest = input.strip_prefix(TEXT_PREFIX).ok_or(if input.is_empty() {
            ParseError::Empty
        } else {
            ParseError::BadPrefix
        })?;
        let b = rest.as_bytes();
        let (&version, b) = b.split_first().ok_or(ParseError::Truncated {
            needed: TEXT_PREFIX.len() + 4,
            got: input.len(),
        })?;
        if !version.is_ascii_digit() {
            return Err(ParseError::BadPrefix);
        }
        if version - b'0' != VERSION {
            return Err(ParseError::UnsupportedVersion(version - b'0'));
        }
        let (&letter, b) = b.split_first().ok_or(ParseError::Truncated {
            needed: TEXT_PREFIX.len() + 4,
            got: input.len(),
        })?;
        let suite = Suite::from_letter(letter).ok_or(ParseError::UnknownSuiteLetter)?;
        let dot = b
            .iter()
            .position(|&c| c == b'.')
            .ok_or(ParseError::MissingSeparator)?;
        let key_id = parse_key_id(&b[..dot])?;
        let header = Header { suite, key_id };
        let encoded = &b[dot + 1..];
        let body = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| ParseError::BadBase64)?;
        check_body_len(header, body.len(), input.len() - encoded.len())?;
        Ok(Envelope {
            header,
            body: Cow::Owned(body),
        })
    }

    /// Puts together an envelope from a header and a body (nonce, ciphertext, trailer).
    pub fn from_parts(header: Header, body: Cow<'a, [u8]>) -> Result<Self, ParseError> {
        check_body_len(header, body.len(), HEADER_LEN)?;
        Ok(Self { header, body })
    }

    /// The envelope with its bytes owned.
    pub fn into_owned(self) -> Envelope<'static> {
        Envelope {
            header: self.header,
            body: Cow::Owned(self.body.into_owned()),
        }
    }

    /// The header.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The 24-byte nonce.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        // The body length was checked at parse time.
        #[allow(clippy::expect_used)]
        self.body[..NONCE_LEN].try_into().expect("checked length")
    }

    /// Ciphertext followed by the GCM tag.
    pub fn sealed(&self) -> &[u8] {
        let end = self.body.len() - self.commitment_len();
        &self.body[NONCE_LEN..end]
    }

    /// The key commitment, for committing suites.
    pub fn commitment(&self) -> Option<&[u8; COMMITMENT_LEN]> {
        if !self.header.suite.commits() {
            return None;
        }
        let start = self.body.len() - COMMITMENT_LEN;
        self.body[start..].try_into().ok()
    }

    /// The length of the ciphertext (the typed plaintext's length).
    pub fn ciphertext_len(&self) -> usize {
        self.body.len() - NONCE_LEN - self.header.suite.trailer_len()
    }

    fn commitment_len(&self) -> usize {
        if self.header.suite.commits() {
            COMMITMENT_LEN
        } else {
            0
        }
    }

    /// The binary form.
    pub fn to_binary(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        out.extend_from_slice(&self.header.to_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        encode_text(self.header, &self.body)
    }
}

/// Writes the text form of a header and body.
pub(crate) fn encode_text(header: Header, body: &[u8]) -> String {
    let prefix = header.text_prefix();
    let mut out = String::with_capacity(prefix.len() + body.len().div_ceil(3) * 4);
    out.push_str(&prefix);
    URL_SAFE_NO_PAD.encode_string(body, &mut out);
    out
}

fn check_body_len(header: Header, body_len: usize, before: usize) -> Result<(), ParseError> {
    let needed = header.min_body_len();
    if body_len < needed {
        return Err(ParseError::Truncated {
            needed: before + needed,
            got: before + body_len,
        });
    }
    Ok(())
}

/// Canonical decimal: 1 to 10 digits, no leading zero, within u32, not 0.
fn parse_key_id(digits: &[u8]) -> Result<KeyId, ParseError> {
    if digits.is_empty()
        || digits.len() > 10
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits[0] == b'0' && digits.len() > 1)
    {
        return Err(ParseError::BadKeyId);
    }
    let mut n: u64 = 0;
    for d in digits {
        n = n * 10 + u64::from(d - b'0');
    }
    let n = u32::try_from(n).map_err(|_| ParseError::BadKeyId)?;
    KeyId::new(n).ok_or(ParseError::ZeroKeyId)
}
