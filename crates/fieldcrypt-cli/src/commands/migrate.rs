//! `encrypt-column`, `rotate`, `decrypt-column`: the `fieldcrypt-migrate` jobs with a progress
//! bar on a terminal (plain progress lines otherwise) and a summary.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use fieldcrypt_migrate::{ColumnJob, Operation, Pool, Progress, RunOptions, SourceFormat, Summary};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{ColumnArgs, DoctorArgs};
use crate::keys;

/// A job that ended with rows left or failed (exit code 9).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Incomplete(String);

/// Progress on stderr: an indicatif bar on a terminal, a line every two seconds otherwise.
struct Reporter {
    bar: Option<ProgressBar>,
    what: String,
    started: Instant,
    last_line: Instant,
}

impl Reporter {
    fn new(what: String) -> Self {
        Self {
            bar: None,
            what,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, p: Progress) {
        if std::io::stderr().is_terminal() {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::new(p.pending_at_start);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {pos}/{len} rows, {per_sec}, eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(self.what.clone());
                bar
            });
            bar.set_length(p.pending_at_start.max(p.written));
            bar.set_position(p.written);
        } else if self.last_line.elapsed() >= Duration::from_secs(2) {
            self.last_line = Instant::now();
            let rate = p.written as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            eprintln!(
                "{}: pass {}, {}/{} rows written, {:.0} rows/s, {} changed under the job, {} failed",
                self.what, p.pass, p.written, p.pending_at_start, rate, p.concurrent, p.failed
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `from KEY` / `to KEY` / `all keys`, for a shard's range.
fn describe_range(range: &fieldcrypt_migrate::KeyRange) -> String {
    match (&range.lower, &range.upper) {
        (None, None) => "all keys".to_owned(),
        (Some(lower), None) => format!("keys from {lower}"),
        (None, Some(upper)) => format!("keys below {upper}"),
        (Some(lower), Some(upper)) => format!("keys from {lower}, below {upper}"),
    }
}

fn print_summary(what: &str, s: &Summary) {
    let secs = s.elapsed.as_secs_f64();
    if let Some((_, range)) = &s.shard {
        println!("{what}: {}", describe_range(range));
    }
    println!(
        "{what}: {} of {} pending rows written in {secs:.1} s ({:.0} rows/s), {} pass(es)",
        s.written,
        s.pending_at_start,
        s.written as f64 / secs.max(1e-3),
        s.passes
    );
    if s.concurrent > 0 {
        println!(
            "  {} rows changed under the job and were taken again on a later pass",
            s.concurrent
        );
    }
    if s.too_long > 0 {
        println!(
            "  {} rows were left as they are because their new value would not fit the column{}: widen it and run again",
            s.too_long,
            s.target_limit
                .as_deref()
                .map(|limit| format!(" (at most {limit})"))
                .unwrap_or_default()
        );
    }
    if s.failed > 0 {
        println!(
            "  {} rows could not be transformed and were left as they are (do not open or read, hold another type, or do not fit): {}{}",
            s.failed,
            s.failed_keys.join(", "),
            if s.failed > s.failed_keys.len() as u64 {
                ", ..."
            } else {
                ""
            }
        );
    }
    match &s.verification {
        Some(v) => println!(
            "verification: {} values read back: {} good{}, {} left to do, {} do not open{} ({:.1} s)",
            v.checked,
            v.good,
            if v.as_written > 0 {
                format!(
                    " ({} byte for byte as this run wrote them, the rest opened)",
                    v.as_written
                )
            } else {
                String::new()
            },
            v.left,
            v.failed_to_open,
            if v.index_mismatch > 0 {
                format!(", {} with a wrong blind-index value", v.index_mismatch)
            } else {
                String::new()
            },
            s.verify_elapsed.as_secs_f64()
        ),
        None => println!("dry run: nothing written"),
    }
}

/// Runs a column job; `source` reads the values of an import.
pub(crate) fn run(
    operation: Operation,
    args: &ColumnArgs,
    source: Option<&dyn SourceFormat>,
) -> Result<()> {
    let loaded = keys::load(&args.on.keyring)?;
    let mut job = ColumnJob::new(operation, &args.on.table, &args.column);
    job.into.clone_from(&args.into);
    job.pk.clone_from(&args.on.pk);
    job.bind_row = args.bind_row;
    job.index = args
        .index
        .as_deref()
        .map(fieldcrypt_migrate::IndexSpec::parse)
        .transpose()?;
    if let Some(context) = &args.context {
        let (table, column) = context
            .split_once('.')
            .filter(|(t, c)| !t.is_empty() && !c.is_empty())
            .with_context(|| format!("--context {context:?} is not table.column"))?;
        job.context = Some((table.to_owned(), column.to_owned()));
    }
    let options = RunOptions {
        batch: args.batch,
        parallel: args.parallel,
        rows_per_sec: args.rows_per_sec,
        dry_run: args.dry_run,
        max_passes: args.max_passes,
        shard: args.shard,
        ..RunOptions::default()
    };
    let mut what = format!("{} {}.{}", operation.name(), args.on.table, args.column);
    if let Some(count) = args.shards {
        let shards = loaded.runtime().block_on(async {
            let pool = Pool::connect(&args.on.database_url).await?;
            fieldcrypt_migrate::shard::status(&pool, &job, loaded.keyring(), count).await
        });
        for s in shards.with_context(|| what.clone())? {
            println!(
                "{what}: shard {}: {} pending ({})",
                s.shard,
                s.pending,
                describe_range(&s.range)
            );
        }
        println!("dry run: nothing written");
        return Ok(());
    }
    if let Some(shard) = args.shard {
        what = format!("{what} [shard {shard}]");
    }
    let mut reporter = Reporter::new(what.clone());
    let summary = loaded.runtime().block_on(async {
        let pool = Pool::connect(&args.on.database_url).await?;
        let mut report = |p| reporter.update(p);
        match source {
            Some(source) => {
                fieldcrypt_migrate::run_import(
                    &pool,
                    &job,
                    loaded.keyring(),
                    source,
                    &options,
                    &mut report,
                )
                .await
            }
            None => {
                fieldcrypt_migrate::run(&pool, &job, loaded.keyring(), &options, &mut report).await
            }
        }
    });
    reporter.finish();
    let summary = summary.with_context(|| what.clone())?;
    print_summary(&what, &summary);
    if !summary.is_clean() {
        bail!(Incomplete(format!(
            "{what}: {} rows failed, {} left; nothing was overwritten (see above)",
            summary.failed,
            summary
                .verification
                .as_ref()
                .map_or(0, |v| v.left + v.failed_to_open + v.index_mismatch)
        )));
    }
    Ok(())
}

pub(crate) fn doctor(args: &DoctorArgs) -> Result<()> {
    let indexes = args
        .index
        .iter()
        .map(|spec| {
            let (column, index) = spec.split_once('=').with_context(|| {
                format!("--index {spec:?} is not COLUMN=INDEX_COLUMN:NORMALISERS:BITS")
            })?;
            Ok((
                column.to_owned(),
                fieldcrypt_migrate::IndexSpec::parse(index)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let loaded = keys::load(&args.on.keyring)?;
    let report = loaded
        .runtime()
        .block_on(async {
            let pool = Pool::connect(&args.on.database_url).await?;
            fieldcrypt_migrate::doctor(
                &pool,
                &args.on.table,
                args.on.pk.as_deref(),
                loaded.keyring(),
                &indexes,
                1000,
            )
            .await
        })
        .with_context(|| format!("doctor {}", args.on.table))?;
    if args.json {
        let columns: Vec<_> = report
            .columns
            .iter()
            .map(|c| {
                serde_json::json!({
                    "column": c.column,
                    "sql_type": c.sql_type,
                    "encrypted": c.is_encrypted(),
                    "values": c.values,
                    "envelopes": c.envelopes,
                    "plaintext": c.plaintext,
                    "by_key": c.by_key,
                    "unknown_key": c.unknown_key,
                    "retired_key": c.retired_key,
                    "open_by_column": c.open_by_column,
                    "open_by_row": c.open_by_row,
                                        "fail_to_open": c.fail_to_open,
                    "index_mismatch": c.index_mismatch,
                    "problems": c.problems(),
                    "examples": c.examples,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "table": report.table,
                "clean": report.is_clean(),
                "columns": columns,
                "skipped": report.skipped,
            })
        );
    } else {
        println!("table {}", report.table);
        for c in &report.columns {
            if !c.is_encrypted() {
                println!(
                    "  {:<24} {} values, no envelopes (not encrypted)",
                    c.column, c.values
                );
                continue;
            }
            let keys: Vec<String> = c
                .by_key
                .iter()
                .map(|(k, n)| format!("key {k}: {n}"))
                .collect();
            println!(
                "  {:<24} {} values: {} envelopes ({}), {} plaintext; open by column {}, by row {}; unknown key {}, retired key {}, do not open {}, wrong index value {}",
                c.column,
                c.values,
                c.envelopes,
                keys.join(", "),
                c.plaintext,
                c.open_by_column,
                c.open_by_row,
                c.unknown_key,
                c.retired_key,
                c.fail_to_open,
                c.index_mismatch
            );
            for example in &c.examples {
                println!("      row {example}");
            }
        }
        if !report.skipped.is_empty() {
            println!(
                "  not read (not text or binary): {}",
                report.skipped.join(", ")
            );
        }
        println!(
            "{}",
            if report.is_clean() {
                "clean"
            } else {
                "problems found"
            }
        );
    }
    if !report.is_clean() {
        let problems: u64 = report
            .columns
            .iter()
            .map(fieldcrypt_migrate::ColumnReport::problems)
            .sum();
        bail!(Incomplete(format!(
            "doctor {}: {problems} problem value(s)",
            report.table
        )));
    }
    Ok(())
}
