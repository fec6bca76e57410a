//! The `fieldcrypt` command. Argument parsing, output and exit codes only: the work is done by
//! the `fieldcrypt` and `fieldcrypt-kms` libraries.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod exit;
mod keys;

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match commands::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let code = exit::code_for(&err);
            // One line: the error and its causes, never a key or plaintext (errors carry neither).
            let mut line = err.to_string();
            for cause in err.chain().skip(1) {
                line.push_str(": ");
                line.push_str(&cause.to_string());
            }
            eprintln!("fieldcrypt: {line}");
            std::process::ExitCode::from(code)
        }
    }
}
