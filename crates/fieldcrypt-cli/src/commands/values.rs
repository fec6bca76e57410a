//! `fieldcrypt seal`, `open`, `index`, `plan-index`.

use std::io::{Read as _, Write as _};

use anyhow::{Context as _, Result, bail};
use fieldcrypt::blind_index::planner;
use fieldcrypt::{Context, Envelope, IndexDefinition, Normalizer, TypeTag, Value};

use crate::cli::{ContextArgs, IndexArgs, OpenArgs, PlanArgs, SealArgs};
use crate::keys;

/// Parses `TABLE.COLUMN[:ROW]` (the row may contain anything, including dots and colons).
pub(crate) fn parse_context(args: &ContextArgs) -> Result<Context> {
    let (place, row) = match args.context.split_once(':') {
        Some((place, row)) => (place, Some(row)),
        None => (args.context.as_str(), None),
    };
    let Some((table, column)) = place.split_once('.') else {
        bail!(
            "--context must be TABLE.COLUMN or TABLE.COLUMN:ROW, got {:?}",
            args.context
        );
    };
    let mut ctx = Context::new(table, column)?;
    if let Some(row) = row {
        ctx = ctx.with_row(row)?;
    }
    if let Some(tenant) = &args.tenant {
        ctx = ctx.with_tenant(tenant.as_str())?;
    }
    Ok(ctx)
}

fn parse_type(name: &str) -> Result<TypeTag> {
    TypeTag::from_name(name).ok_or_else(|| {
        anyhow::anyhow!("unknown --type {name:?} (string, bytes, int, float, bool, date, timestamp, decimal, json)")
    })
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("reading stdin")?;
    Ok(buf)
}

fn strip_newline(buf: &mut Vec<u8>) {
    if buf.ends_with(b"\r\n") {
        buf.truncate(buf.len() - 2);
    } else if buf.ends_with(b"\n") {
        buf.truncate(buf.len() - 1);
    }
}

pub(crate) fn seal(args: &SealArgs) -> Result<()> {
    let ctx = parse_context(&args.context)?;
    let tag = parse_type(&args.value_type)?;
    let mut input = read_stdin()?;
    if !args.keep_newline {
        strip_newline(&mut input);
    }
    let value = if tag == TypeTag::Bytes {
        Value::Bytes(input)
    } else {
        let text = String::from_utf8(input)
            .map_err(|_| fieldcrypt::Error::InvalidValue("string (stdin is not UTF-8)"))?;
        Value::parse(tag, &text)?
    };
    let loaded = keys::load(&args.keyring)?;
    let sealed = loaded.keyring().seal_text(&ctx, &value)?;
    println!("{sealed}");
    Ok(())
}

pub(crate) fn open(args: &OpenArgs) -> Result<()> {
    let ctx = parse_context(&args.context)?;
    let expected = args.value_type.as_deref().map(parse_type).transpose()?;
    let mut input = read_stdin()?;
    // Text envelopes arrive with a newline from echo or a file; binary ones are taken as they are.
    if input.first() != Some(&fieldcrypt::envelope::MAGIC) {
        while input.last().is_some_and(u8::is_ascii_whitespace) {
            input.pop();
        }
    }
    let envelope = Envelope::parse(&input)?;
    let loaded = keys::load(&args.keyring)?;
    let value: Value = loaded.keyring().open_envelope(&ctx, &envelope)?;
    if let Some(expected) = expected
        && value.type_tag() != expected
    {
        return Err(fieldcrypt::Error::TypeMismatch {
            expected,
            found: value.type_tag(),
        }
        .into());
    }
    let mut out = std::io::stdout().lock();
    match &value {
        Value::Bytes(b) => out.write_all(b)?,
        Value::String(s) => writeln!(out, "{s}")?,
        Value::Int(i) => writeln!(out, "{i}")?,
        Value::Float(f) => writeln!(out, "{f}")?,
        Value::Bool(b) => writeln!(out, "{b}")?,
        Value::Date(d) => writeln!(out, "{d}")?,
        Value::Timestamp(t) => writeln!(out, "{t}")?,
        Value::Decimal(d) => writeln!(out, "{d}")?,
        Value::Json(j) => writeln!(out, "{j}")?,
        _ => bail!("value of type {} cannot be printed", value.type_tag()),
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn index(args: &IndexArgs) -> Result<()> {
    let parts: Vec<&str> = args.index.splitn(3, '.').collect();
    let (table, column, name) = match parts.as_slice() {
        [table, column, name] => (*table, *column, *name),
        _ => ("", "", args.index.as_str()),
    };
    if name.is_empty() {
        bail!("--index must be NAME or TABLE.COLUMN.NAME");
    }
    let def = IndexDefinition::new(table, column, name, args.bits)
        .normalized(Normalizer::parse_list(&args.normalize)?);
    let mut input = read_stdin()?;
    strip_newline(&mut input);
    let text = String::from_utf8(input)
        .map_err(|_| fieldcrypt::Error::InvalidValue("string (stdin is not UTF-8)"))?;
    let loaded = keys::load(&args.keyring)?;
    let value = loaded.keyring().blind_indexer(&def)?.compute(&text)?;
    if args.int {
        let int = value
            .to_u64()
            .ok_or(fieldcrypt::Error::BlindIndex("--int needs at most 64 bits"))?;
        println!("{int}");
    } else {
        println!("{}", value.to_hex());
    }
    Ok(())
}

pub(crate) fn plan(args: &PlanArgs) -> Result<()> {
    let p = planner::plan(args.rows, args.distinct, args.other_bits)?;
    println!("bits: {}", p.bits);
    println!(
        "distinct values per index value: {:.1} (at least 2: no value is singled out)",
        p.distinct_per_value
    );
    println!(
        "rows per lookup: {:.1} (rule: at most sqrt(rows) = {:.1})",
        p.rows_per_value, p.max_rows_per_value
    );
    if !p.within_rule {
        println!(
            "note: too few distinct values for a selective index; lookups read many rows, but nothing more leaks"
        );
    }
    Ok(())
}
