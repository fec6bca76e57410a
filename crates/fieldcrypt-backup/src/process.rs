//! PostgreSQL and MariaDB/MySQL through their own dump and restore tools, as child processes
//! whose output and input are streamed (no dump is ever written in clear).

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use crate::{Database, Error, Kind, Summary};

/// The first dump program found on `PATH` for a kind of database.
pub(crate) fn dump_program(kind: Kind) -> Result<String, Error> {
    first_available(match kind {
        Kind::Postgresql => &["pg_dump"],
        _ => &["mariadb-dump", "mysqldump"],
    })
}

fn restore_program(kind: Kind) -> Result<String, Error> {
    first_available(match kind {
        Kind::Postgresql => &["pg_restore"],
        _ => &["mariadb", "mysql"],
    })
}

fn first_available(programs: &[&str]) -> Result<String, Error> {
    for program in programs {
        if Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Ok((*program).to_owned());
        }
    }
    Err(Error::Tool {
        tool: programs.join(" or "),
        message: "not found on PATH (install the database's client tools)".into(),
    })
}

/// What `tool --version` prints, on one line.
pub(crate) fn version_of(tool: &str) -> Result<String, Error> {
    let out = Command::new(tool)
        .arg("--version")
        .output()
        .map_err(|e| tool_error(tool, &e.to_string()))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn tool_error(tool: &str, message: &str) -> Error {
    Error::Tool {
        tool: tool.to_owned(),
        message: message.to_owned(),
    }
}

/// The command for `program` against `database`, credentials in the environment.
fn command(program: &str, database: &Database, dump: bool) -> Command {
    let mut cmd = Command::new(program);
    match database.kind() {
        Kind::Postgresql => {
            if dump {
                cmd.args(["--format=custom"]);
            } else {
                // One transaction: a restore that fails half-way leaves the database as it was.
                cmd.args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                ]);
            }
            cmd.args(["--no-password", "--dbname", database.url_without_password()]);
            if let Some(password) = database.password() {
                cmd.env("PGPASSWORD", password);
            }
        }
        _ => {
            if dump {
                cmd.args([
                    "--single-transaction",
                    "--routines",
                    "--triggers",
                    "--hex-blob",
                ]);
            }
            cmd.args(["--default-character-set=utf8mb4", "--host", database.host()]);
            if let Some(port) = database.port() {
                cmd.args(["--port", &port.to_string()]);
            }
            if !database.user().is_empty() {
                cmd.args(["--user", database.user()]);
            }
            cmd.arg(database.name());
            if let Some(password) = database.password() {
                cmd.env("MYSQL_PWD", password);
            }
        }
    }
    cmd
}

/// Keeps the last few KiB a child writes to stderr, for the error message.
fn collect_stderr(child: &mut Child) -> Option<JoinHandle<String>> {
    let mut stderr = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all);
        let text = String::from_utf8_lossy(&all);
        let tail: Vec<&str> = text.lines().rev().take(8).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
    }))
}

fn finish(tool: &str, mut child: Child, stderr: Option<JoinHandle<String>>) -> Result<(), Error> {
    let status = child.wait()?;
    let message = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(tool_error(
            tool,
            &format!(
                "exited with {status}: {}",
                if message.is_empty() {
                    "no error output"
                } else {
                    &message
                }
            ),
        ))
    }
}

/// Runs the dump tool and streams its output into `out`.
pub(crate) fn dump(database: &Database, out: &mut dyn Write) -> Result<(), Error> {
    let tool = dump_program(database.kind())?;
    let mut child = command(&tool, database, true)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool_error(&tool, &e.to_string()))?;
    let stderr = collect_stderr(&mut child);
    let Some(mut stdout) = child.stdout.take() else {
        return Err(tool_error(&tool, "no output pipe"));
    };
    let mut buf = vec![0u8; 1 << 20];
    let copied = (|| -> Result<(), Error> {
        loop {
            let n = match stdout.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            out.write_all(&buf[..n])?;
        }
    })();
    if let Err(err) = copied {
        let _ = child.kill();
        let _ = child.wait();
        return Err(err);
    }
    finish(&tool, child, stderr)
}

/// Runs the restore tool and lets `feed` write the dump into its input.
pub(crate) fn restore(
    database: &Database,
    feed: &mut dyn FnMut(&mut dyn Write) -> Result<Summary, Error>,
) -> Result<Summary, Error> {
    let tool = restore_program(database.kind())?;
    let mut child = command(&tool, database, false)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool_error(&tool, &e.to_string()))?;
    let stderr = collect_stderr(&mut child);
    let Some(mut stdin) = child.stdin.take() else {
        return Err(tool_error(&tool, "no input pipe"));
    };
    let fed = feed(&mut stdin);
    drop(stdin);
    match fed {
        Ok(summary) => {
            finish(&tool, child, stderr)?;
            Ok(summary)
        }
        Err(err) => {
            // The tool saw a dump cut short; stop it (PostgreSQL rolls back).
            let _ = child.kill();
            let _ = child.wait();
            // A broken pipe means the tool stopped first: its own error says why.
            match (&err, stderr.and_then(|h| h.join().ok())) {
                (Error::Io(e), Some(message)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    Err(tool_error(&tool, &message))
                }
                _ => Err(err),
            }
        }
    }
}
