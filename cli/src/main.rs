//! `sosopay`: the demo, the sandbox gateway, gateway operations and support tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sosopay::MerchantKey;

mod demo;
mod ops;
mod qr;
mod receiver;
mod tools;

/// An error to print as one line on stderr.
#[derive(Debug)]
pub enum CliError {
    /// A message.
    Msg(String),
    /// The SDK's error.
    Sdk(sosopay::Error),
    /// Exit with this status, the reason having been printed already.
    Quiet(u8),
}

impl CliError {
    pub fn msg(m: impl Into<String>) -> Self {
        CliError::Msg(m.into())
    }
}

impl From<sosopay::Error> for CliError {
    fn from(e: sosopay::Error) -> Self {
        CliError::Sdk(e)
    }
}

#[derive(Debug, Parser)]
#[command(name = "sosopay", version, about = "The SouSou payment gateway SDK's command-line tool", long_about = None)]
struct Cli {
    #[command(flatten)]
    conn: ops::Conn,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Walk through a QR payment, its notification, a query, a refund and a till payment, on the
    /// embedded sandbox gateway. No setup needed.
    Demo(demo::DemoArgs),
    /// Run the sandbox gateway (prints its base URL as the first line of stdout).
    Sandbox(sosopay_sandbox::SandboxArgs),
    #[command(flatten)]
    Op(ops::Op),
    /// Sign a POST body read from stdin (or a query / cancel) → md5hex:timestamp.
    Sign {
        /// Merchant key (or SOSOPAY_KEY).
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
        /// Timestamp (13-digit ms or 10-digit s); now when absent.
        #[arg(long)]
        timestamp: Option<String>,
        /// Sign a query of this CHARGE_CODE instead of a body.
        #[arg(long, value_name = "CHARGE_CODE")]
        query: Option<String>,
        /// Sign a cancel of CHARGE_CODE for BUSI_CODE instead of a body.
        #[arg(long, num_args = 2, value_names = ["CHARGE_CODE", "BUSI_CODE"])]
        cancel: Option<Vec<String>>,
    },
    /// 3DES-encrypt stdin → Base64.
    Encrypt {
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
    },
    /// Decrypt Base64 on stdin → plaintext.
    Decrypt {
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
    },
    /// Verify a notification (body on stdin) → its fields as JSON.
    Notify {
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
        /// The raw query string the notification was POSTed with (holds sign=…).
        #[arg(long)]
        query: String,
        /// Replay window in seconds (0 disables; default 300).
        #[arg(long)]
        max_age: Option<u64>,
    },
}

fn key(k: &str) -> Result<MerchantKey, CliError> {
    Ok(MerchantKey::new(k)?)
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Sandbox(args) => {
            sosopay_sandbox::run(args).map_err(|e| CliError::msg(e.to_string()))
        }
        Command::Op(op) => ops::run(&op, &cli.conn),
        Command::Sign {
            key: k,
            timestamp,
            query,
            cancel,
        } => {
            let ts = timestamp.unwrap_or_else(|| sosopay::envelope::now_millis().to_string());
            tools::sign(&key(&k)?, &ts, query.as_deref(), cancel.as_deref())
        }
        Command::Encrypt { key: k } => tools::encrypt(&key(&k)?),
        Command::Decrypt { key: k } => tools::decrypt(&key(&k)?),
        Command::Notify {
            key: k,
            query,
            max_age,
        } => tools::notify(&key(&k)?, &query, max_age),
    }
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unexpected internal error".into());
        eprintln!("sosopay: internal error: {msg}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            // One line, like every other error of this tool.
            let text = e.to_string();
            let summary: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
                .collect();
            let line = summary.join(" ");
            eprintln!(
                "sosopay: {} (see sosopay --help)",
                line.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Quiet(code)) => ExitCode::from(code),
        Err(CliError::Msg(m)) => {
            eprintln!("sosopay: {m}");
            ExitCode::from(1)
        }
        Err(CliError::Sdk(e)) => {
            let hint = if e.outcome_unknown() {
                " (outcome unknown: query the order before retrying)"
            } else {
                ""
            };
            eprintln!("sosopay: {e}{hint}");
            ExitCode::from(if matches!(e, sosopay::Error::Validation { .. }) {
                2
            } else {
                1
            })
        }
    }
}
