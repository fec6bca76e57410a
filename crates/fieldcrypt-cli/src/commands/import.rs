//! `import django`: a column a Django library encrypted, re-sealed through the migrate engine.

use anyhow::{Context as _, Result, bail};
use fieldcrypt_compat::{
    DjangoSettings, FieldKind, Flavor, LegacyReader, NaiveZone, ReadOptions, reader::SETTING_NAMES,
};
use fieldcrypt_migrate::{Operation, SourceFormat};
use zeroize::Zeroizing;

use crate::cli::ImportDjangoArgs;

/// A Django library's reader as the migrate engine's source format.
struct Django(LegacyReader);

impl SourceFormat for Django {
    fn name(&self) -> &str {
        self.0.flavor().name()
    }

    fn read(&self, stored: &[u8]) -> Result<fieldcrypt::Value, String> {
        self.0.read(stored).map_err(|e| e.to_string())
    }
}

/// The settings: the file's entries, else the environment's.
fn settings(args: &ImportDjangoArgs) -> Result<DjangoSettings> {
    let file: serde_json::Map<String, serde_json::Value> = match &args.settings {
        Some(path) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading --settings {}", path.display()))?,
            );
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("--settings {} is not JSON", path.display()))?;
            let serde_json::Value::Object(map) = value else {
                bail!(
                    "--settings {} is not a JSON object of Django settings",
                    path.display()
                );
            };
            // A value or a list of values; a boolean only for FERNET_USE_HKDF. Anything else is
            // refused rather than skipped (a skipped setting would come from the environment).
            for (name, value) in &map {
                let ok = match value {
                    serde_json::Value::String(_) => true,
                    serde_json::Value::Bool(_) => name == "FERNET_USE_HKDF",
                    serde_json::Value::Array(items) => items.iter().all(|i| i.is_string()),
                    _ => false,
                };
                if !ok {
                    bail!(
                        "--settings {}: {name} must be a string or a list of strings",
                        path.display()
                    );
                }
            }
            if let Some(unknown) = map.keys().find(|k| !SETTING_NAMES.contains(&k.as_str())) {
                bail!(
                    "--settings {}: unknown setting {unknown:?} (known: {})",
                    path.display(),
                    SETTING_NAMES.join(", ")
                );
            }
            map
        }
        None => serde_json::Map::new(),
    };
    // A list in the file goes on as its JSON text, which `from_env` reads as a list.
    let settings = DjangoSettings::from_env(|name| match file.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        Some(list) => Some(list.to_string()),
        None => std::env::var(name).ok(),
    })?;
    Ok(settings)
}

pub(crate) fn django(args: &ImportDjangoArgs) -> Result<()> {
    let flavor = Flavor::parse(&args.flavor).with_context(|| {
        format!(
            "--flavor {:?}: expected one of {}",
            args.flavor,
            Flavor::ALL.map(Flavor::name).join(", ")
        )
    })?;
    let kind = FieldKind::parse(&args.kind).with_context(|| {
        format!(
            "--kind {:?}: expected text, integer, boolean, date, datetime, decimal, float or json",
            args.kind
        )
    })?;
    if args.job.index.is_some() && kind != FieldKind::Text {
        bail!("--index needs --kind text: blind indexes are computed over text values");
    }
    let options = ReadOptions {
        naive_zone: NaiveZone::parse(&args.naive_time_zone)
            .with_context(|| format!("--naive-time-zone {:?}", args.naive_time_zone))?,
        plaintext_passthrough: args.accept_plaintext,
    };
    let reader = LegacyReader::new(flavor, kind, &settings(args)?, options)
        .with_context(|| format!("the {} reader", flavor.name()))?;
    super::migrate::run(Operation::Import, &args.job, Some(&Django(reader)))
}
