//! Batch work over the cores, with the GIL released by the caller: a batch is cut into one
//! contiguous chunk per core (at least [`MIN_CHUNK`] items each, so a small batch stays on one
//! thread) and the results come back in order. The first error wins.

/// Fewer items than this per thread cost more in thread start-up than they save.
const MIN_CHUNK: usize = 256;

/// `f` over `items` on up to the machine's cores, in order.
pub(crate) fn map<T, R, E, F>(items: &[T], f: F) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
    F: Fn(&T) -> Result<R, E> + Sync,
{
    map_with(items, |_| (), |(), t| f(t))
}

/// [`map`] with a state per thread, made by `init` from the number of items the thread takes
/// (a [`fieldcrypt::Sealer`] drawing its nonces in blocks rather than one CSPRNG call each).
pub(crate) fn map_with<T, S, R, E, I, F>(items: &[T], init: I, f: F) -> Result<Vec<R>, E>
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
