//! Large result sets opened on all cores.
//!
//! sqlx decodes a row when the application asks for it, on the task that polls the query, so the
//! [`Encrypted`](crate::Encrypted) fields of a big `SELECT` open one after another on one core.
//! sqlx's rows own their bytes, though, and decoding can wait: these helpers take rows as sqlx
//! returns them and run the decoding (a `FromRow` impl, or a closure of `try_get`s) over them on
//! all cores, in order, through [`fieldcrypt::parallel`].
//!
//! ```no_run
//! # use fieldcrypt_sqlx::prelude::*;
//! # use futures_util::TryStreamExt;
//! fieldcrypt_sqlx::column!(pub Email = "customers"."email");
//!
//! #[derive(sqlx::FromRow)]
//! struct Customer {
//!     id: i64,
//!     email: Encrypted<String, Email>,
//! }
//!
//! # async fn demo(pool: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
//! // Everything at once: fetch, then decode (and open) on all cores.
//! let rows = sqlx::query("SELECT id, email FROM customers").fetch_all(&pool).await?;
//! let customers: Vec<Customer> = fieldcrypt_sqlx::rows::from_rows(&rows)?;
//!
//! // A table too big to hold: 10,000 rows at a time, each chunk opened on all cores.
//! let mut chunks = std::pin::pin!(fieldcrypt_sqlx::rows::chunks::<_, _, Customer>(
//!     sqlx::query("SELECT id, email FROM customers").fetch(&pool),
//!     10_000,
//! ));
//! while let Some(chunk) = chunks.try_next().await? {
//!     for customer in chunk { /* ... */ }
//! }
//! # Ok(()) }
//! ```
//!
//! [`from_rows`] and [`map_rows`] decode on the calling thread and scoped threads beside it, so
//! an async task waits for them as for any short computation (about a microsecond per field,
//! divided by the cores). [`chunks`] and [`chunks_with`] decode each chunk on a thread of its
//! own instead, while the next chunk is fetched: the database keeps sending rows while the
//! last ones open, and the async task never waits on decoding.

use futures_util::{Stream, TryStreamExt};
use sqlx::{FromRow, Row};

/// Decodes every row into a `T` through its `FromRow` impl, on all cores, in order. The first
/// row that does not decode (a value that does not open, a wrong type) is the error.
pub fn from_rows<R, T>(rows: &[R]) -> Result<Vec<T>, sqlx::Error>
where
    R: Row + Sync,
    T: for<'r> FromRow<'r, R> + Send,
{
    fieldcrypt::parallel::map(rows, |row| T::from_row(row))
}

/// Decodes every row with `decode` (a closure of `row.try_get(..)` calls), on all cores, in
/// order. The first error wins.
pub fn map_rows<R, T, F>(rows: &[R], decode: F) -> Result<Vec<T>, sqlx::Error>
where
    R: Row + Sync,
    T: Send,
    F: Fn(&R) -> Result<T, sqlx::Error> + Sync,
{
    fieldcrypt::parallel::map(rows, decode)
}

/// Turns a stream of rows (`query.fetch(executor)`) into a stream of decoded chunks of up to
/// `chunk` rows each, in order, every chunk decoded on all cores by `T`'s `FromRow` impl while
/// the next one is fetched.
pub fn chunks<'s, S, R, T>(
    rows: S,
    chunk: usize,
) -> impl Stream<Item = Result<Vec<T>, sqlx::Error>> + 's
where
    S: Stream<Item = Result<R, sqlx::Error>> + 's,
    R: Row + Sync + Send + 'static,
    T: for<'r> FromRow<'r, R> + Send + 'static,
{
    chunks_with(rows, chunk, |row: &R| T::from_row(row))
}

/// [`chunks`] with `decode` (a closure of `row.try_get(..)` calls) instead of a `FromRow` impl.
pub fn chunks_with<'s, S, R, T, F>(
    rows: S,
    chunk: usize,
    decode: F,
) -> impl Stream<Item = Result<Vec<T>, sqlx::Error>> + 's
where
    S: Stream<Item = Result<R, sqlx::Error>> + 's,
    R: Row + Sync + Send + 'static,
    T: Send + 'static,
    F: Fn(&R) -> Result<T, sqlx::Error> + Clone + Send + Sync + 'static,
{
    rows.try_chunks(chunk.max(1))
        .map_err(|e| e.1)
        .map_ok(move |rows| decode_apart(rows, decode.clone()))
        // One chunk decoding while the next is fetched.
        .try_buffered(2)
}

/// Starts decoding `rows` on a thread of its own (and on all cores from there); the future
/// resolves to the decoded rows.
fn decode_apart<R, T, F>(
    rows: Vec<R>,
    decode: F,
) -> impl core::future::Future<Output = Result<Vec<T>, sqlx::Error>>
where
    R: Row + Sync + Send + 'static,
    T: Send + 'static,
    F: Fn(&R) -> Result<T, sqlx::Error> + Send + Sync + 'static,
{
    let (done, decoded) = futures_channel::oneshot::channel();
    // `Builder::spawn` reports a thread the system will not give (`thread::spawn` would panic).
    let spawned = std::thread::Builder::new()
        .name("fieldcrypt-rows".to_owned())
        .spawn(move || {
            // The receiver may be gone (the stream was dropped): nothing to deliver then.
            let _ = done.send(map_rows(&rows, decode));
        })
        .map(|_| ())
        .map_err(|e| {
            sqlx::Error::Decode(format!("no thread to decode a chunk of rows: {e}").into())
        });
    async move {
        spawned?;
        decoded.await.map_err(|_| {
            sqlx::Error::Decode("the thread decoding a chunk of rows stopped (it panicked)".into())
        })?
    }
}
