//! Random bytes from the kernel's CSPRNG: through the vDSO where the kernel offers it (Linux 6.11
//! and later), else through the `getrandom` system call (or the platform's equivalent).
//!
//! Why not aws-lc's DRBG, as before: every envelope draws a fresh 24-byte nonce, and on the
//! development machine that call cost about 600 ns through aws-lc (which mixes fresh entropy into
//! every call), 450 ns as a system call, and 70 ns through the vDSO: the nonce was most of the cost of
//! sealing a short field. `cargo bench -p fieldcrypt --bench primitives` measures all three;
//! docs/PERFORMANCE.md records the figures and the decision.
//!
//! What the vDSO keeps, by the kernel's design, is what the system call gives: the same
//! generator, reseeded by the kernel. Its per-thread state lives in memory the kernel maps
//! wipe-on-fork, and every call checks the kernel's generation counter, which the kernel bumps
//! on a reseed and a VM-generation-ID change; a restored VM snapshot reseeds before it hands out
//! a byte, and a forked child finds its copy of the state wiped and starts from a fresh seed.
//! (No process-id check is added here: `getpid` is a system call, which would cost more than the
//! vDSO call it guards. The fork test, `tests/test_fork.py` in the Python package, compares a million
//! nonces of a parent and its child.) Each thread owns its own small pool of states, so no lock
//! or queue is shared between threads that a fork could leave half-updated.
//!
//! Fail closed: an error from the vDSO falls back to the system call; an error there is an
//! error ([`crate::Error::Rng`]), never a partly filled buffer.

/// Fills `out` from the kernel's CSPRNG.
pub(crate) fn fill(out: &mut [u8]) -> Result<(), getrandom::Error> {
    #[cfg(target_os = "linux")]
    if vdso::fill(out) {
        return Ok(());
    }
    getrandom::fill(out)
}

/// Which source this process draws nonces and keys from (`fieldcrypt bench` prints it).
pub fn source() -> &'static str {
    if is_vdso() {
        "kernel getrandom (vDSO)"
    } else {
        "kernel getrandom (system call)"
    }
}

/// Whether a call is as cheap as the vDSO makes it: then drawing nonces ahead in blocks
/// ([`crate::Sealer`]) saves nothing worth its trade-offs.
pub(crate) fn is_vdso() -> bool {
    #[cfg(target_os = "linux")]
    return vdso::available();
    #[cfg(not(target_os = "linux"))]
    false
}

#[cfg(target_os = "linux")]
mod vdso {
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU8, Ordering};

    type LocalState<'a> = vdso_rng::LocalState<'a>;

    self_cell::self_cell!(
        /// One thread's pool of vDSO states and the state it draws from.
        struct ThreadPool {
            owner: vdso_rng::Pool,
            #[covariant]
            dependent: LocalState,
        }
    );

    const UNKNOWN: u8 = 0;
    const AVAILABLE: u8 = 1;
    const UNAVAILABLE: u8 = 2;
    /// Whether this kernel has the vDSO function: learned once per process, never retried.
    static VDSO: AtomicU8 = AtomicU8::new(UNKNOWN);

    thread_local! {
        static STATE: RefCell<Option<ThreadPool>> = const { RefCell::new(None) };
    }

    fn new_state() -> Option<ThreadPool> {
        let pool = vdso_rng::Pool::new().ok()?;
        // A closure, not the bare fn: the state must borrow the pool for any lifetime.
        #[allow(clippy::redundant_closure)]
        ThreadPool::try_new(pool, |pool| vdso_rng::LocalState::new(pool)).ok()
    }

    pub(super) fn available() -> bool {
        match VDSO.load(Ordering::Relaxed) {
            AVAILABLE => true,
            UNAVAILABLE => false,
            _ => {
                let mut probe = [0u8; 1];
                fill(&mut probe)
            }
        }
    }

    /// Fills `out` through the vDSO; false (with `out` to be filled another way) when the vDSO
    /// is missing or the call failed.
    pub(super) fn fill(out: &mut [u8]) -> bool {
        if VDSO.load(Ordering::Relaxed) == UNAVAILABLE {
            return false;
        }
        STATE
            .try_with(|cell| {
                let Ok(mut slot) = cell.try_borrow_mut() else {
                    return false;
                };
                if slot.is_none() {
                    *slot = new_state();
                    let found = if slot.is_some() {
                        AVAILABLE
                    } else {
                        UNAVAILABLE
                    };
                    VDSO.store(found, Ordering::Relaxed);
                }
                match slot.as_mut() {
                    Some(state) => state.with_dependent_mut(|_, local| local.fill(out, 0).is_ok()),
                    None => false,
                }
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn fills_whole_buffers_that_differ() {
        let mut seen = HashSet::new();
        for len in [1usize, 16, 24, 32, 255, 256, 4096, 70_000] {
            let mut a = vec![0u8; len];
            fill(&mut a).unwrap();
            if len >= 16 {
                assert!(a.iter().any(|&b| b != 0), "{len} bytes all zero");
                assert!(seen.insert(a[..16].to_vec()), "{len}: a repeated prefix");
            }
        }
    }

    #[test]
    fn threads_draw_distinct_nonces() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    (0..10_000)
                        .map(|_| {
                            let mut n = [0u8; 24];
                            fill(&mut n).unwrap();
                            n
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for h in handles {
            for n in h.join().unwrap() {
                assert!(all.insert(n), "a nonce repeated across threads");
            }
        }
        assert_eq!(all.len(), 40_000);
    }

    #[test]
    fn says_which_source_it_uses() {
        let s = source();
        assert!(s.starts_with("kernel getrandom"), "{s}");
        eprintln!("os_random: {s}");
    }
}
