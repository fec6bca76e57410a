//! `fieldcrypt keyring ...`

use anyhow::Result;
use fieldcrypt::{KeyId, Suite};
use fieldcrypt_kms::keyring_file;

use crate::cli::KeyringCommand;
use crate::keys;

/// The generation just saved, and how to pin it so that older copies are refused.
fn print_generation(loaded: &keys::Loaded) {
    println!(
        "keyring generation {g}: set FIELDCRYPT_KEYRING_MIN_GENERATION={g} where the keyring is used to refuse older copies",
        g = loaded.generation()
    );
}

pub(crate) fn run(cmd: KeyringCommand) -> Result<()> {
    match cmd {
        KeyringCommand::Init {
            keyring,
            provider,
            suite,
        } => {
            let suite = if suite == "xaes-256-gcm" {
                Suite::Xaes256Gcm
            } else {
                Suite::KcXaes256Gcm
            };
            let loaded = keys::init(&keyring, &provider, suite)?;
            if let Some((master, created)) = &loaded.master_key {
                if *created {
                    println!(
                        "created master key {} (mode 0600; keep it off the database host and out of backups of the data)",
                        master.display()
                    );
                } else {
                    println!("using existing master key {}", master.display());
                }
            }
            println!(
                "created keyring {} (id {}) under the {} provider: data key 1 ({}) is primary",
                loaded.path().display(),
                loaded.keyring().id(),
                loaded.provider(),
                suite.slug()
            );
            print_generation(&loaded);
            Ok(())
        }
        KeyringCommand::Rewrap {
            keyring,
            to,
            target,
            newest_key_version,
        } => {
            let mut loaded = keys::load(&keyring)?;
            if newest_key_version {
                if loaded.reencrypt_kek()? {
                    println!(
                        "keyring {}: the KEK is now wrapped under the newest version of its {} key (same KEK; no data key and no row changed)",
                        loaded.path().display(),
                        loaded.provider()
                    );
                    print_generation(&loaded);
                } else {
                    println!(
                        "keyring {}: the {} provider has no key versions; nothing to do (use --provider to move to a new key)",
                        loaded.path().display(),
                        loaded.provider()
                    );
                }
                return Ok(());
            }
            let from = loaded.provider();
            let (provider, _) =
                keys::new_provider(&to, &target.over(&keyring.provider), loaded.runtime())?;
            loaded.rewrap(provider.as_ref())?;
            println!(
                "rewrapped keyring {}: {from} -> {} (new document KEK; no data key and no row changed)",
                loaded.path().display(),
                loaded.provider()
            );
            print_generation(&loaded);
            Ok(())
        }
        KeyringCommand::Check {
            keyring,
            database_url,
            unwrap,
        } => crate::commands::check::run(&keyring, database_url.as_deref(), unwrap),
        KeyringCommand::Rotate {
            keyring,
            index_root,
        } => {
            let mut loaded = keys::load(&keyring)?;
            let (what, id) = if index_root {
                (
                    "blind-index root",
                    loaded.keyring_mut().rotate_index_root()?,
                )
            } else {
                ("data key", loaded.keyring_mut().rotate()?)
            };
            loaded.save()?;
            println!("{what} {id} is now primary; older ones stay for opening");
            print_generation(&loaded);
            Ok(())
        }
        KeyringCommand::Retire { keyring, key } => {
            let mut loaded = keys::load(&keyring)?;
            let id = KeyId::new(key).ok_or_else(|| anyhow::anyhow!("key id 0 does not exist"))?;
            loaded.retire(id)?;
            println!(
                "data key {id} retired: its material is gone from this keyring, which is rewrapped under a fresh key-encryption key; its id stays reserved"
            );
            println!(
                "note     older copies of the keyring (backups, history, replicas) still hold key {id} for as long as the {} provider key that wrapped them exists: destroying it takes destroying that provider key version too (docs/KEYS.md)",
                loaded.provider()
            );
            print_generation(&loaded);
            Ok(())
        }
        KeyringCommand::List { keyring, json } => {
            let doc = keyring_file::read_document(&keyring)?;
            if json {
                let entry = |k: &fieldcrypt::document::WrappedKey| serde_json::json!({"id": k.id, "suite": k.suite, "state": k.state, "created": k.created});
                let out = serde_json::json!({
                    "keyring_id": doc.keyring_id,
                    "kek": {"provider": doc.kek.provider, "fingerprint": doc.kek.fingerprint},
                    "keys": doc.keys.iter().map(entry).collect::<Vec<_>>(),
                    "index_roots": doc.index_roots.iter().map(entry).collect::<Vec<_>>(),
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "keyring {}  (KEK: {}, fingerprint {})",
                    doc.keyring_id, doc.kek.provider, doc.kek.fingerprint
                );
                println!(
                    "{:<8} {:<12} {:<17} {:<8} created",
                    "kind", "id", "suite", "state"
                );
                for (kind, list) in [("data", &doc.keys), ("index", &doc.index_roots)] {
                    for k in list {
                        println!(
                            "{kind:<8} {:<12} {:<17} {:<8} {}",
                            k.id,
                            k.suite.slug(),
                            k.state,
                            k.created
                        );
                    }
                }
            }
            Ok(())
        }
    }
}
