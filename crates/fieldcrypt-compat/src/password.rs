//! Django's password hashes (`django.contrib.auth.hashers`; shared/testdata/django/FORMATS.md
//! section 7), so a Rust service can check the passwords of a Django user table, tell which
//! hashes Django would upgrade, and write new hashes that Django keeps accepting:
//!
//! ```text
//! pbkdf2_sha256$<iterations>$<salt>$<std-base64(PBKDF2-HMAC-SHA256(password, salt, iterations, 32))>
//! pbkdf2_sha1$<iterations>$<salt>$<std-base64(PBKDF2-HMAC-SHA1(password, salt, iterations, 20))>
//! argon2$argon2id$v=19$m=102400,t=2,p=8$<b64-nopad(salt)>$<b64-nopad(hash)>
//! ```
//!
//! The salt is text (22 characters of `[A-Za-z0-9]` by default) and is used as its UTF-8
//! bytes. Comparisons are constant-time. A hash in any other format (`md5`, `bcrypt_sha256`,
//! `!` for an unusable password, ...) is [`PasswordError::UnsupportedAlgorithm`], never a match.

use core::num::NonZeroU32;

use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::{constant_time, pbkdf2, rand};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use zeroize::Zeroizing;

/// PBKDF2-SHA256 iterations of Django 5.2 (the newest LTS); Django 6.0 uses 1,200,000.
pub const DJANGO_PBKDF2_ITERATIONS: u32 = 1_000_000;
/// Django's Argon2 parameters (unchanged from 3.2 to 6.1): memory in KiB, passes, lanes.
pub const DJANGO_ARGON2: Argon2Params = Argon2Params {
    memory_kib: 102_400,
    iterations: 2,
    lanes: 8,
};
/// Django's salt alphabet and length.
const SALT_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SALT_LEN: usize = 22;
/// Bits of entropy below which Django upgrades a salt (`must_update_salt`).
const SALT_ENTROPY_BITS: f64 = 128.0;
/// Refused above these, so a crafted hash cannot make a check run for minutes or take the
/// process's memory: about ten times Django's newest defaults (PBKDF2 1,500,000 in 6.1; Argon2
/// 100 MiB x 2 passes x 8 lanes).
const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;
const MAX_ARGON2_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_ARGON2_ITERATIONS: u32 = 64;
/// Memory x passes, KiB: 2 GiB-passes, ten times Django's 200 MiB-passes.
const MAX_ARGON2_WORK_KIB: u64 = 2 * 1024 * 1024;
const MAX_ARGON2_LANES: u32 = 64;

/// Argon2 cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory, KiB (`m=`).
    pub memory_kib: u32,
    /// Passes (`t=`).
    pub iterations: u32,
    /// Lanes (`p=`).
    pub lanes: u32,
}

/// Why a hash could not be checked. A wrong password is not an error: [`verify`] returns false.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// An algorithm this module does not check (Django has others: bcrypt, scrypt, md5...).
    #[error(
        "password hash algorithm {0:?} is not supported (pbkdf2_sha256, pbkdf2_sha1 and argon2 are)"
    )]
    UnsupportedAlgorithm(String),
    /// The system's random generator failed (making a salt).
    #[error("the system random generator failed")]
    Random,
    /// Not the algorithm's layout.
    #[error("malformed {0} password hash")]
    Malformed(&'static str),
    /// Parameters outside what Django would write (or large enough to be an attack).
    #[error("{0} password hash parameters out of range")]
    Parameters(&'static str),
}

/// A parsed hash.
#[derive(Clone, PartialEq, Eq)]
enum Parsed {
    Pbkdf2 {
        sha256: bool,
        iterations: u32,
        salt: String,
        hash: Vec<u8>,
    },
    Argon2 {
        variant: Algorithm,
        version: Version,
        params: Argon2Params,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

fn parse(encoded: &str) -> Result<Parsed, PasswordError> {
    let (algorithm, rest) = encoded.split_once('$').ok_or_else(|| {
        PasswordError::UnsupportedAlgorithm("(not a Django password hash)".to_owned())
    })?;
    match algorithm {
        "pbkdf2_sha256" | "pbkdf2_sha1" => {
            let sha256 = algorithm == "pbkdf2_sha256";
            let what = if sha256 {
                "pbkdf2_sha256"
            } else {
                "pbkdf2_sha1"
            };
            let mut parts = rest.split('$');
            let (Some(iterations), Some(salt), Some(hash), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(PasswordError::Malformed(what));
            };
            let iterations: u32 = iterations
                .parse()
                .map_err(|_| PasswordError::Malformed(what))?;
            if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return Err(PasswordError::Parameters(what));
            }
            let hash = STANDARD
                .decode(hash)
                .map_err(|_| PasswordError::Malformed(what))?;
            if hash.len() != if sha256 { 32 } else { 20 } || salt.contains('$') {
                return Err(PasswordError::Malformed(what));
            }
            Ok(Parsed::Pbkdf2 {
                sha256,
                iterations,
                salt: salt.to_owned(),
                hash,
            })
        }
        "argon2" => {
            const WHAT: &str = "argon2";
            let mut parts = rest.split('$').peekable();
            let variant = match parts.next() {
                Some("argon2id") => Algorithm::Argon2id,
                Some("argon2i") => Algorithm::Argon2i,
                Some("argon2d") => Algorithm::Argon2d,
                _ => return Err(PasswordError::Malformed(WHAT)),
            };
            // `v=19`; hashes from argon2 before 1.3 have no version field (0x10).
            let version = match parts.peek() {
                Some(v) if v.starts_with("v=") => {
                    let v = parts.next().unwrap_or_default();
                    match v {
                        "v=19" => Version::V0x13,
                        "v=16" => Version::V0x10,
                        _ => return Err(PasswordError::Malformed(WHAT)),
                    }
                }
                _ => Version::V0x10,
            };
            let (Some(params), Some(salt), Some(hash), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(PasswordError::Malformed(WHAT));
            };
            let (mut m, mut t, mut p) = (None, None, None);
            for pair in params.split(',') {
                let (key, value) = pair.split_once('=').ok_or(PasswordError::Malformed(WHAT))?;
                let value: u32 = value.parse().map_err(|_| PasswordError::Malformed(WHAT))?;
                let slot = match key {
                    "m" => &mut m,
                    "t" => &mut t,
                    "p" => &mut p,
                    _ => return Err(PasswordError::Malformed(WHAT)),
                };
                if slot.replace(value).is_some() {
                    return Err(PasswordError::Malformed(WHAT));
                }
            }
            let (Some(memory_kib), Some(iterations), Some(lanes)) = (m, t, p) else {
                return Err(PasswordError::Malformed(WHAT));
            };
            if memory_kib > MAX_ARGON2_MEMORY_KIB
                || iterations > MAX_ARGON2_ITERATIONS
                || u64::from(memory_kib) * u64::from(iterations) > MAX_ARGON2_WORK_KIB
                || lanes == 0
                || lanes > MAX_ARGON2_LANES
            {
                return Err(PasswordError::Parameters(WHAT));
            }
            let salt = STANDARD_NO_PAD
                .decode(salt)
                .map_err(|_| PasswordError::Malformed(WHAT))?;
            let hash = STANDARD_NO_PAD
                .decode(hash)
                .map_err(|_| PasswordError::Malformed(WHAT))?;
            if hash.len() < 4 || hash.len() > 1024 {
                return Err(PasswordError::Malformed(WHAT));
            }
            Ok(Parsed::Argon2 {
                variant,
                version,
                params: Argon2Params {
                    memory_kib,
                    iterations,
                    lanes,
                },
                salt,
                hash,
            })
        }
        // Only a name that looks like one is repeated: a plaintext password stored in the
        // column (or arguments swapped) must not reach an error message.
        other
            if !other.is_empty()
                && other.len() <= 32
                && other
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Err(PasswordError::UnsupportedAlgorithm(other.to_owned()))
        }
        _ => Err(PasswordError::UnsupportedAlgorithm(
            "(not an algorithm name)".to_owned(),
        )),
    }
}

fn pbkdf2_hash(sha256: bool, iterations: u32, salt: &[u8], password: &str) -> Zeroizing<Vec<u8>> {
    let (algorithm, len) = if sha256 {
        (pbkdf2::PBKDF2_HMAC_SHA256, 32)
    } else {
        (pbkdf2::PBKDF2_HMAC_SHA1, 20)
    };
    let mut out = Zeroizing::new(vec![0_u8; len]);
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(algorithm, iterations, salt, password.as_bytes(), &mut out);
    out
}

fn argon2_hash(
    variant: Algorithm,
    version: Version,
    params: Argon2Params,
    salt: &[u8],
    password: &str,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, PasswordError> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.lanes,
        Some(len),
    )
    .map_err(|_| PasswordError::Parameters("argon2"))?;
    let mut out = Zeroizing::new(vec![0_u8; len]);
    Argon2::new(variant, version, params)
        .hash_password_into(password.as_bytes(), salt, &mut out)
        .map_err(|_| PasswordError::Parameters("argon2"))?;
    Ok(out)
}

/// Whether `password` matches `encoded`, a hash as Django stores it in `auth_user.password`.
pub fn verify(password: &str, encoded: &str) -> Result<bool, PasswordError> {
    let computed = match parse(encoded)? {
        Parsed::Pbkdf2 {
            sha256,
            iterations,
            salt,
            hash,
        } => (
            pbkdf2_hash(sha256, iterations, salt.as_bytes(), password),
            hash,
        ),
        Parsed::Argon2 {
            variant,
            version,
            params,
            salt,
            hash,
        } => (
            argon2_hash(variant, version, params, &salt, password, hash.len())?,
            hash,
        ),
    };
    Ok(constant_time::verify_slices_are_equal(&computed.0, &computed.1).is_ok())
}

/// What Django's `check_password` would do after a successful check: rehash when the
/// algorithm is not the preferred one, its parameters differ, or the salt is too short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preferred {
    /// `PBKDF2PasswordHasher` first in `PASSWORD_HASHERS` (Django's default), at this many
    /// iterations.
    Pbkdf2Sha256 {
        /// The iteration count of the Django version in use.
        iterations: u32,
    },
    /// `Argon2PasswordHasher` first, with these parameters.
    Argon2id(Argon2Params),
}

impl Default for Preferred {
    /// Django 5.2's default: PBKDF2-SHA256 at 1,000,000 iterations.
    fn default() -> Self {
        Preferred::Pbkdf2Sha256 {
            iterations: DJANGO_PBKDF2_ITERATIONS,
        }
    }
}

/// Whether Django would rehash `encoded` on the next login under `preferred`.
pub fn needs_upgrade(encoded: &str, preferred: Preferred) -> Result<bool, PasswordError> {
    Ok(match (parse(encoded)?, preferred) {
        (
            Parsed::Pbkdf2 {
                sha256: true,
                iterations,
                salt,
                ..
            },
            Preferred::Pbkdf2Sha256 { iterations: want },
        ) => iterations != want || salt_too_short(salt.len()),
        (
            Parsed::Argon2 {
                variant: Algorithm::Argon2id,
                version: Version::V0x13,
                params,
                salt,
                ..
            },
            Preferred::Argon2id(want),
        ) => params != want || salt_too_short(salt.len()),
        _ => true,
    })
}

/// Django's `must_update_salt`: a salt of `len` characters from its 62-letter alphabet.
fn salt_too_short(len: usize) -> bool {
    (len as f64) * 62_f64.log2() < SALT_ENTROPY_BITS
}

/// A new random salt as Django makes one: 22 characters of `[A-Za-z0-9]`.
pub fn random_salt() -> Result<String, PasswordError> {
    let rng = rand::SystemRandom::new();
    let mut salt = String::with_capacity(SALT_LEN);
    while salt.len() < SALT_LEN {
        let mut bytes = [0_u8; 32];
        rand::SecureRandom::fill(&rng, &mut bytes).map_err(|_| PasswordError::Random)?;
        // 248 = 4 * 62: take only bytes below it, so every character is equally likely.
        for byte in bytes.into_iter().filter(|b| *b < 248) {
            if salt.len() < SALT_LEN {
                salt.push(SALT_CHARS[usize::from(byte % 62)] as char);
            }
        }
    }
    Ok(salt)
}

/// A new Argon2id hash of `password` in Django's format, with Django's parameters and a fresh
/// salt: Django's `Argon2PasswordHasher` (with argon2-cffi installed) accepts it.
pub fn hash_argon2id(password: &str) -> Result<String, PasswordError> {
    hash_argon2id_with(password, &random_salt()?, DJANGO_ARGON2)
}

/// [`hash_argon2id`] with a given salt and parameters.
pub fn hash_argon2id_with(
    password: &str,
    salt: &str,
    params: Argon2Params,
) -> Result<String, PasswordError> {
    if salt.is_empty() || salt.contains('$') {
        return Err(PasswordError::Malformed("argon2"));
    }
    let hash = argon2_hash(
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        salt.as_bytes(),
        password,
        32,
    )?;
    Ok(format!(
        "argon2$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_kib,
        params.iterations,
        params.lanes,
        STANDARD_NO_PAD.encode(salt.as_bytes()),
        STANDARD_NO_PAD.encode(&*hash)
    ))
}

/// A new PBKDF2-SHA256 hash in Django's format (for apps that keep Django's default hasher).
pub fn hash_pbkdf2_sha256(password: &str, iterations: u32) -> Result<String, PasswordError> {
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(PasswordError::Parameters("pbkdf2_sha256"));
    }
    let salt = random_salt()?;
    let hash = pbkdf2_hash(true, iterations, salt.as_bytes(), password);
    Ok(format!(
        "pbkdf2_sha256${iterations}${salt}${}",
        STANDARD.encode(&*hash)
    ))
}
