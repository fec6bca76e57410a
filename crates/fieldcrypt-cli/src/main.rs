//! The `fieldcrypt` command. Argument parsing, output and exit codes only: the work is done by
//! the `fieldcrypt` and `fieldcrypt-kms` libraries.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod exit;
mod keys;

use clap::Parser as _;

/// mimalloc rather than glibc's allocator: the column jobs allocate per row on several threads at
/// once, where glibc's arena locks showed in profiles (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let code = exit::code_for(&err);
            // One line: the error and each cause once (an error whose message already holds
            // its source's is not followed by it again), never a key or plaintext.
            let line = exit::one_line(&err);
            eprintln!("fieldcrypt: {line}");
            std::process::ExitCode::from(code)
        }
    }
}
