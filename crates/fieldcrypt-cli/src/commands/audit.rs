//! `fieldcrypt audit verify`: the decrypt trail checked with the public key alone
//! (`fieldcrypt-audit` does the work).

use anyhow::{Context as _, Result};
use fieldcrypt_audit::{Problem, VerifyingKey};

use crate::cli::AuditVerifyArgs;

/// The trail did not verify; the findings were printed.
#[derive(Debug, thiserror::Error)]
#[error("the trail does not verify: {0} finding(s)")]
pub(crate) struct TrailRefused(pub(crate) usize);

pub(crate) fn verify(args: &AuditVerifyArgs) -> Result<()> {
    let pem = std::fs::read_to_string(&args.public_key)
        .with_context(|| format!("reading {}", args.public_key.display()))?;
    let key = VerifyingKey::from_pem(&pem)?;
    let records = match (&args.file, &args.database_url) {
        (Some(path), _) => fieldcrypt_audit::file::read(path)?,
        (None, Some(url)) => {
            let runtime = crate::keys::runtime()?;
            runtime.block_on(async {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .context("connecting to the trail's database")?;
                anyhow::Ok(
                    fieldcrypt_audit::postgres::PgSink::new(pool)
                        .read_all()
                        .await?,
                )
            })?
        }
        (None, None) => anyhow::bail!("give --file or --database-url"),
    };
    let report = fieldcrypt_audit::verify(records, &key);
    for (replica, r) in &report.replicas {
        println!(
            "{replica}: {} entries, {} valid checkpoints, signed through entry {}",
            r.entries, r.valid_checkpoints, r.signed_through
        );
    }
    let refused: Vec<&Problem> = report
        .problems
        .iter()
        .filter(|p| !(args.allow_unsigned_tail && matches!(p, Problem::Unsigned { .. })))
        .collect();
    for p in &report.problems {
        println!("FINDING: {p}");
    }
    if refused.is_empty() {
        println!("ok: the trail verifies with key {}", key.fingerprint());
        Ok(())
    } else {
        Err(TrailRefused(refused.len()).into())
    }
}
