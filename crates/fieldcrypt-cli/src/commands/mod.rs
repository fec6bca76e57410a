//! One function per command.

pub(crate) mod audit;
mod backup;
mod bench;
pub(crate) mod check;
mod files;
mod import;
mod keyring;
pub(crate) mod migrate;
mod values;
mod walkthrough;

use anyhow::Result;

use crate::cli::{AuditCommand, Cli, Command, FileCommand, ImportCommand};

pub(crate) fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keyring(cmd) => keyring::run(cmd),
        Command::Seal(args) => values::seal(&args),
        Command::Open(args) => values::open(&args),
        Command::Index(args) => values::index(&args),
        Command::PlanIndex(args) => values::plan(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Walkthrough(args) => walkthrough::run(&args),
        Command::EncryptColumn(args) => {
            migrate::run(fieldcrypt_migrate::Operation::Encrypt, &args, None)
        }
        Command::Rotate(args) => migrate::run(fieldcrypt_migrate::Operation::Rotate, &args, None),
        Command::DecryptColumn(args) => {
            migrate::run(fieldcrypt_migrate::Operation::Decrypt, &args, None)
        }
        Command::Reindex(args) => migrate::run(fieldcrypt_migrate::Operation::Reindex, &args, None),
        Command::Import(ImportCommand::Django(args)) => import::django(&args),
        Command::Doctor(args) => migrate::doctor(&args),
        Command::Audit(AuditCommand::Verify(args)) => audit::verify(&args),
        Command::File(FileCommand::Seal(args)) => files::seal(&args),
        Command::File(FileCommand::Open(args)) => files::open(&args),
        Command::Backup(args) => backup::backup(&args),
        Command::Restore(args) => backup::restore(&args),
    }
}
