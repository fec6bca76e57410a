//! `fieldcrypt backup`, `backup verify`, `restore`: `fieldcrypt-backup` with a progress bar on
//! a terminal (a line every few seconds otherwise) and a summary.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use fieldcrypt_backup::{Database, Summary};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{BackupArgs, RestoreArgs};
use crate::keys;

/// Bytes done, as a bar (known total) or a counter, on stderr.
struct ByteProgress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: Option<u64>,
    last_line: Instant,
    last: u64,
}

impl ByteProgress {
    fn new(what: &'static str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(t) => (
                    ProgressBar::new(t),
                    "{msg} [{bar:30}] {bytes}/{total_bytes}, {bytes_per_sec}, eta {eta}",
                ),
                None => (ProgressBar::no_length(), "{msg} {bytes}, {bytes_per_sec}"),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_message(what);
            bar
        });
        Self {
            bar,
            what,
            total,
            last_line: Instant::now(),
            last: 0,
        }
    }

    fn update(&mut self, bytes: u64) {
        if bytes < self.last {
            // A second pass (restore: verify, then restore).
            self.what = "restoring";
            if let Some(bar) = &self.bar {
                bar.set_message(self.what);
            }
        }
        self.last = bytes;
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        } else if self.last_line.elapsed() >= Duration::from_secs(5) {
            self.last_line = Instant::now();
            match self.total {
                Some(t) => eprintln!("{}: {bytes} of {t} bytes", self.what),
                None => eprintln!("{}: {bytes} bytes", self.what),
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn print_summary(verb: &str, s: &Summary, json: bool) -> Result<()> {
    if json {
        let doc = serde_json::json!({
            "manifest": s.manifest,
            "trailer": s.trailer,
            "file_bytes": s.file_bytes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let m = &s.manifest;
    println!(
        "{verb}: {} database {:?} at {}, dumped by {} ({}) at {}",
        m.database, m.name, m.location, m.tool, m.tool_version, m.started_at
    );
    println!(
        "  dump {} bytes, SHA-256 {}; file {} bytes, sealed under key {}",
        s.trailer.dump_bytes, s.trailer.dump_sha256, s.file_bytes, m.key_id
    );
    Ok(())
}

pub(crate) fn backup(args: &BackupArgs) -> Result<()> {
    let loaded = keys::load(&args.keyring)?;
    if args.action.as_deref() == Some("verify") {
        let Some(file) = &args.file else {
            bail!("backup verify needs the backup file: fieldcrypt backup verify FILE");
        };
        if args.out.is_some() {
            bail!("backup verify takes no --out");
        }
        let total = std::fs::metadata(file)
            .with_context(|| format!("reading {}", file.display()))?
            .len();
        let mut progress = ByteProgress::new("verifying", Some(total));
        let summary =
            fieldcrypt_backup::verify(loaded.keyring(), file, &mut |b| progress.update(b));
        progress.finish();
        let summary = summary.with_context(|| format!("verifying {}", file.display()))?;
        return print_summary("verified", &summary, args.json);
    }
    if args.file.is_some() {
        bail!("unexpected file argument (did you mean `fieldcrypt backup verify FILE`?)");
    }
    let (Some(url), Some(out)) = (&args.database_url, &args.out) else {
        bail!("backup needs --database-url URL and --out FILE (or: backup verify FILE)");
    };
    let database = Database::parse(url)?;
    let mut progress = ByteProgress::new("backing up", None);
    if out.as_os_str() == "-" {
        if std::io::stdout().is_terminal() {
            bail!("refusing to write a backup to a terminal; use --out FILE or a pipe");
        }
        let stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        let result =
            fieldcrypt_backup::backup_to_writer(loaded.keyring(), &database, stdout, &mut |b| {
                progress.update(b)
            });
        progress.finish();
        let (manifest, trailer) = result.context("backing up to stdout")?;
        eprintln!(
            "backed up {} database {:?}: dump {} bytes under key {} to stdout",
            manifest.database, manifest.name, trailer.dump_bytes, manifest.key_id
        );
        return Ok(());
    }
    let summary = fieldcrypt_backup::backup(loaded.keyring(), &database, out, &mut |b| {
        progress.update(b)
    });
    progress.finish();
    let summary = summary.with_context(|| format!("backing up into {}", out.display()))?;
    print_summary("backed up", &summary, args.json)
}

pub(crate) fn restore(args: &RestoreArgs) -> Result<()> {
    let loaded = keys::load(&args.keyring)?;
    let database = Database::parse(&args.database_url)?;
    let total = std::fs::metadata(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?
        .len();
    let mut progress = ByteProgress::new("verifying", Some(total));
    let summary = fieldcrypt_backup::restore(loaded.keyring(), &args.file, &database, &mut |b| {
        progress.update(b)
    });
    progress.finish();
    let summary = summary.with_context(|| format!("restoring {}", args.file.display()))?;
    print_summary("restored", &summary, false)
}
