//! Batch work over the cores: a batch is cut into one contiguous chunk per core (at least
//! [`MIN_CHUNK`] items each, so a small batch stays on one thread) and the results come back in
//! order. The first error wins.
//!
//! Scoped threads per call, no pool: nothing outlives the call, so nothing is left for a
//! `fork()` to copy half-used, and the caller's thread (a Python thread with the GIL released, an
//! async task about to hand back rows) waits for the batch like any blocking call. This is the
//! one home of the helper: the keyring's batch calls, `fieldcrypt-sqlx`'s row decoding, the
//! column jobs and the Python binding all use it.

/// Fewer items than this per thread cost more in thread start-up than they save.
pub const MIN_CHUNK: usize = 256;

/// `f` over `items` on up to the machine's cores, in order.
pub fn map<T, R, E, F>(items: &[T], f: F) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
    F: Fn(&T) -> Result<R, E> + Sync,
{
    map_with(items, |_| (), |(), t| f(t))
}

/// [`map`] with a state per thread, made by `init` from the number of items the thread takes
/// (a [`crate::Sealer`], which derives one key per batch prefix).
pub fn map_with<T, S, R, E, I, F>(items: &[T], init: I, f: F) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
    I: Fn(usize) -> S + Sync,
    F: Fn(&mut S, &T) -> Result<R, E> + Sync,
{
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(items.len() / MIN_CHUNK).max(1);
    if threads == 1 {
        let mut state = init(items.len());
        return items.iter().map(|t| f(&mut state, t)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let (f, init) = (&f, &init);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut state = init(part.len());
                    part.iter()
                        .map(|t| f(&mut state, t))
                        .collect::<Result<Vec<R>, E>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        let mut first_error = None;
        for handle in handles {
            match handle.join() {
                Ok(Ok(part)) => out.extend(part),
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                // A panic in `f` is a bug; re-raise it on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    })
}

/// `work` over owned, contiguous chunks of `items` (one per core, each at least [`MIN_CHUNK`]
/// items), on up to the machine's cores; the outputs concatenated in order. For work that wants
/// its chunk whole: a state to set up once per chunk, values moved rather than borrowed. The
/// first error wins.
pub fn map_chunks<T, R, E, F>(items: Vec<T>, work: F) -> Result<Vec<R>, E>
where
    T: Send,
    R: Send,
    E: Send,
    F: Fn(Vec<T>) -> Result<Vec<R>, E> + Sync,
{
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(items.len() / MIN_CHUNK).max(1);
    if threads == 1 {
        return work(items);
    }
    let chunk = items.len().div_ceil(threads);
    let mut rest = items;
    let mut parts = Vec::with_capacity(threads);
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    let work = &work;
    std::thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts.map(|part| scope.spawn(move || work(part))).collect();
        // The caller's thread takes the first chunk.
        let mut out = work(first);
        for handle in handles {
            let part = match handle.join() {
                Ok(part) => part,
                // A panic in `work` is a bug; re-raise it on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            };
            match (&mut out, part) {
                (Ok(out), Ok(part)) => out.extend(part),
                (Ok(_), Err(e)) => out = Err(e),
                (Err(_), _) => {}
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn results_come_back_in_order_and_the_first_error_wins() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled: Result<Vec<u32>, ()> = map(&items, |x| Ok(x * 2));
        assert_eq!(
            doubled.unwrap(),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        let failed: Result<Vec<u32>, u32> =
            map(&items, |&x| if x % 4_000 == 3_999 { Err(x) } else { Ok(x) });
        assert_eq!(failed.unwrap_err(), 3_999);
        let empty: Result<Vec<u32>, ()> = map(&[] as &[u32], |&x| Ok(x));
        assert!(empty.unwrap().is_empty());
    }

    #[test]
    fn owned_chunks_come_back_concatenated_in_order() {
        let items: Vec<String> = (0..3_000).map(|i| i.to_string()).collect();
        let out: Result<Vec<usize>, ()> = map_chunks(items.clone(), |part| {
            Ok(part.into_iter().map(|s| s.len()).collect())
        });
        assert_eq!(
            out.unwrap(),
            items.iter().map(String::len).collect::<Vec<_>>()
        );
        let failed: Result<Vec<String>, String> = map_chunks(items, |part| {
            if part.iter().any(|s| s == "2999") {
                Err("last chunk".to_owned())
            } else {
                Ok(part)
            }
        });
        assert_eq!(failed.unwrap_err(), "last chunk");
    }

    #[test]
    fn each_thread_gets_its_own_state_sized_for_its_chunk() {
        let items: Vec<u32> = (0..5_000).collect();
        let sizes = std::sync::Mutex::new(Vec::new());
        let out: Result<Vec<u32>, ()> = map_with(
            &items,
            |n| {
                sizes.lock().unwrap().push(n);
                0u32
            },
            |count, &x| {
                *count += 1;
                Ok(x)
            },
        );
        assert_eq!(out.unwrap(), items);
        let sizes = sizes.into_inner().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), items.len());
        // A batch smaller than one chunk stays on the caller's thread: one state.
        let small: Vec<u32> = (0..10).collect();
        let states = std::sync::atomic::AtomicUsize::new(0);
        let _ = map_with(
            &small,
            |_| states.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            |_, &x| Ok::<_, ()>(x),
        );
        assert_eq!(states.into_inner(), 1);
    }
}
