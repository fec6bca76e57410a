//! `fieldcrypt file seal|open`: whole files through `fieldcrypt-files`.

use std::io::{self, IsTerminal as _};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use fieldcrypt::Context;

use crate::cli::{ContextArgs, FileArgs};
use crate::commands::values::parse_context;
use crate::keys;

fn context(args: &FileArgs) -> Result<Option<Context>> {
    args.context
        .as_ref()
        .map(|c| {
            parse_context(&ContextArgs {
                context: c.clone(),
                tenant: None,
            })
        })
        .transpose()
}

fn is_std(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

pub(crate) fn seal(args: &FileArgs) -> Result<()> {
    let ctx = context(args)?;
    let Some(chunk_size) = args.chunk_kib.checked_mul(1024).filter(|c| {
        (fieldcrypt_files::MIN_CHUNK_SIZE..=fieldcrypt_files::MAX_CHUNK_SIZE).contains(c)
    }) else {
        bail!("--chunk-kib must be 1 to 1024");
    };
    let loaded = keys::load(&args.keyring)?;
    let keyring = loaded.keyring();
    let input: Box<dyn io::Read> = match &args.input {
        Some(p) if !is_std(Some(p)) => {
            Box::new(std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?)
        }
        _ => Box::new(io::stdin().lock()),
    };
    match &args.out {
        Some(out) if !is_std(Some(out)) => {
            let n = fieldcrypt_files::write_atomically(out, |file| {
                fieldcrypt_files::seal_from_reader(
                    keyring,
                    ctx.as_ref(),
                    chunk_size,
                    input,
                    io::BufWriter::with_capacity(256 * 1024, file),
                )
                .map(|(n, _)| n)
            })
            .with_context(|| format!("sealing into {}", out.display()))?;
            eprintln!("sealed {n} bytes into {}", out.display());
        }
        _ => {
            if io::stdout().is_terminal() {
                bail!("refusing to write a sealed stream to a terminal; use --out FILE or a pipe");
            }
            fieldcrypt_files::seal_from_reader(
                keyring,
                ctx.as_ref(),
                chunk_size,
                input,
                io::BufWriter::with_capacity(256 * 1024, io::stdout().lock()),
            )
            .context("sealing to stdout")?;
        }
    }
    Ok(())
}

pub(crate) fn open(args: &FileArgs) -> Result<()> {
    let ctx = context(args)?;
    let loaded = keys::load(&args.keyring)?;
    let keyring = loaded.keyring();
    let input: Box<dyn io::Read> = match &args.input {
        Some(p) if !is_std(Some(p)) => Box::new(io::BufReader::with_capacity(
            256 * 1024,
            std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
        )),
        _ => Box::new(io::stdin().lock()),
    };
    match &args.out {
        Some(out) if !is_std(Some(out)) => {
            let n = fieldcrypt_files::write_atomically(out, |file| {
                fieldcrypt_files::open_to_writer(
                    keyring,
                    ctx.as_ref(),
                    input,
                    io::BufWriter::with_capacity(256 * 1024, file),
                )
                .map(|(n, _)| n)
            })
            .context("opening the sealed stream")?;
            eprintln!("opened {n} bytes into {}", out.display());
        }
        _ => {
            fieldcrypt_files::open_to_writer(
                keyring,
                ctx.as_ref(),
                input,
                io::BufWriter::with_capacity(256 * 1024, io::stdout().lock()),
            )
            .context("opening the sealed stream")?;
        }
    }
    Ok(())
}
