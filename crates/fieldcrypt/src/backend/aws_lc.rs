//! The aws-lc-rs backend.

use aws_lc_rs::{aead, constant_time, hkdf, hmac};

use super::{GCM_NONCE_LEN, GCM_TAG_LEN, Gcm, HmacSha256, Unspecified};

/// AES-256-GCM over a prepared key.
pub(crate) struct Aes256Gcm(aead::LessSafeKey);

impl Gcm for Aes256Gcm {
    fn new(key: &[u8; 32]) -> Self {
        #[allow(clippy::expect_used)]
        let key = aead::UnboundKey::new(&aead::AES_256_GCM, key).expect("32-byte AES-256 key");
        Self(aead::LessSafeKey::new(key))
    }

    fn seal_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; GCM_TAG_LEN] {
        let nonce = aead::Nonce::assume_unique_for_key(*nonce);
        // Sealing fails only past GCM's length limit (about 64 GiB), far above any field.
        #[allow(clippy::expect_used)]
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), in_out)
            .expect("plaintext within AES-GCM limits");
        let mut out = [0u8; GCM_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn open_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, Unspecified> {
        let nonce = aead::Nonce::assume_unique_for_key(*nonce);
        self.0
            .open_in_place(nonce, aead::Aad::from(aad), in_out)
            .map(|plaintext| plaintext.len())
            .map_err(|_| Unspecified)
    }
}

/// HMAC-SHA-256 with the inner and outer pads computed once.
pub(crate) struct Hmac(hmac::Key);

impl HmacSha256 for Hmac {
    fn new(key: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key))
    }

    fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        for part in parts {
            ctx.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their length (aws-lc's
/// `CRYPTO_memcmp`: one call, where `subtle` fences every byte).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA-256 (RFC 5869): extract with `salt`, expand with the concatenation of `info`.
pub(crate) fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[&[u8]], out: &mut [u8]) {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    // Expansion fails only for an output longer than 255 * 32 bytes; callers ask for 32.
    #[allow(clippy::expect_used)]
    prk.expand(info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output within 255 blocks");
}

#[cfg(test)]
mod tests {
    //! The backend against Project Wycheproof (AES-256-GCM with 96-bit nonces and 128-bit tags,
    //! HMAC-SHA-256 with full tags, HKDF-SHA-256).
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn wycheproof_aes_256_gcm() {
        use wycheproof::aead::{TestName, TestSet};
        let set = TestSet::load(TestName::AesGcm).unwrap_or_else(|e| panic!("{e:?}"));
        let mut ran = 0;
        for group in set.test_groups {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                continue;
            }
            for t in group.tests {
                let key: [u8; 32] = t.key.as_ref().try_into().unwrap_or([0; 32]);
                let nonce: [u8; 12] = t.nonce.as_ref().try_into().unwrap_or([0; 12]);
                let gcm = Aes256Gcm::new(&key);
                let mut buf = t.ct.to_vec();
                buf.extend_from_slice(&t.tag);
                let opened = gcm.open_in_place(&nonce, &t.aad, &mut buf);
                if t.result.must_fail() {
                    assert!(opened.is_err(), "tc {} opened but must fail", t.tc_id);
                } else {
                    assert_eq!(opened.ok(), Some(t.pt.len()), "tc {}", t.tc_id);
                    assert_eq!(&buf[..t.pt.len()], &t.pt[..], "tc {}", t.tc_id);
                    let mut sealed = t.pt.to_vec();
                    let tag = gcm.seal_in_place(&nonce, &t.aad, &mut sealed);
                    assert_eq!(sealed, t.ct.to_vec(), "tc {}", t.tc_id);
                    assert_eq!(&tag[..], &t.tag[..], "tc {}", t.tc_id);
                }
                ran += 1;
            }
        }
        assert!(ran > 50, "only {ran} Wycheproof AES-256-GCM cases ran");
        eprintln!("vectors: wycheproof aes-256-gcm (256-bit key, 96-bit nonce): {ran} passed");
    }

    #[test]
    fn wycheproof_hmac_sha256() {
        use wycheproof::mac::{TestName, TestSet};
        let set = TestSet::load(TestName::HmacSha256).unwrap_or_else(|e| panic!("{e:?}"));
        let mut ran = 0;
        for group in set.test_groups {
            if group.tag_size != 256 {
                continue;
            }
            for t in group.tests {
                let tag = Hmac::new(&t.key).sign(&[&t.msg]);
                assert_eq!(
                    tag[..] == t.tag[..],
                    !t.result.must_fail(),
                    "tc {}",
                    t.tc_id
                );
                ran += 1;
            }
        }
        assert!(ran > 20);
        eprintln!("vectors: wycheproof hmac-sha256: {ran} passed");
    }

    #[test]
    fn wycheproof_hkdf_sha256() {
        use wycheproof::hkdf::{TestName, TestSet};
        let set = TestSet::load(TestName::HkdfSha256).unwrap_or_else(|e| panic!("{e:?}"));
        let mut ran = 0;
        for group in set.test_groups {
            for t in group.tests {
                if t.result.must_fail() || t.size > 255 * 32 || t.size == 0 {
                    continue;
                }
                let mut out = vec![0u8; t.size];
                hkdf_sha256(&t.salt, &t.ikm, &[&t.info], &mut out);
                assert_eq!(out, t.okm.to_vec(), "tc {}", t.tc_id);
                ran += 1;
            }
        }
        assert!(ran > 20);
        eprintln!("vectors: wycheproof hkdf-sha256: {ran} passed");
    }
}
