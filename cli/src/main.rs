//! `sosopay`: the demo, the sandbox gateway, gateway operations and support tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sosopay::MerchantKey;

mod demo;
mod ops;
mod output;
mod qr;
mod receiver;
mod tools;

/// The program's allocator is mimalloc, not glibc's malloc: `sosopay sandbox` and `sosopay demo`
/// run the sandbox, which builds and frees a few hundred small objects per request, and glibc's
/// share of its CPU was about 13 % (`perf`; docs/BENCHMARKS.md, "The sandbox's own CPU").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status of a failure.
const EXIT_FAILURE: u8 = 1;
/// Exit status of invalid input: arguments, options, environment variables, settings.
const EXIT_INVALID: u8 = 2;

/// An error to print as one line on stderr.
#[derive(Debug)]
pub enum CliError {
    /// A failure (exit 1).
    Msg(String),
    /// Invalid input: a missing or malformed argument, option, variable or setting (exit 2).
    Invalid(String),
    /// The SDK's error.
    Sdk(sosopay::Error),
    /// Exit with this status, the reason having been printed already (or there being none).
    Quiet(u8),
}

impl CliError {
    pub fn msg(m: impl Into<String>) -> Self {
        CliError::Msg(m.into())
    }

    pub fn invalid(m: impl Into<String>) -> Self {
        CliError::Invalid(m.into())
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
    Op(Box<ops::Op>),
    /// Sign a POST body read from stdin (or a query / cancel) → md5hex:timestamp.
    Sign {
        /// Merchant key (prefer the SOSOPAY_KEY variable: flags show in `ps`).
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
        /// Merchant key (prefer the SOSOPAY_KEY variable: flags show in `ps`).
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
    },
    /// Decrypt Base64 on stdin → plaintext.
    Decrypt {
        /// Merchant key (prefer the SOSOPAY_KEY variable: flags show in `ps`).
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
    },
    /// Verify a notification (body on stdin) → its fields as JSON.
    Notify {
        /// Merchant key (prefer the SOSOPAY_KEY variable: flags show in `ps`).
        #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
        key: String,
        /// The raw query string the notification was POSTed with (holds sign=…).
        #[arg(long)]
        query: String,
        /// Replay window in seconds (0 disables; default 300).
        #[arg(long)]
        max_age: Option<u64>,
        /// A merchant key being rotated out, also accepted (comma-separated in the variable).
        #[arg(
            long,
            env = "SOSOPAY_PREVIOUS_KEYS",
            hide_env_values = true,
            value_delimiter = ','
        )]
        previous_key: Vec<String>,
        /// Accept only this merchant's notifications (their BUSI_ID): another merchant's, or
        /// one naming none, is refused.
        #[arg(long, env = "SOSOPAY_BUSI_CODE")]
        busi_code: Option<String>,
    },
}

/// What a subcommand does, for the hints given with its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A gateway operation that can move money (micropay, order, refund, cancel).
    MovesMoney,
    /// `query`.
    Query,
    /// `notify`: verifying a notification.
    Notify,
    /// `decrypt`.
    Decrypt,
    /// The demo, the sandbox, `sign`, `encrypt`.
    Other,
}

impl Kind {
    fn of(c: &Command) -> Kind {
        match c {
            Command::Op(op) if op.moves_money() => Kind::MovesMoney,
            Command::Op(_) => Kind::Query,
            Command::Notify { .. } => Kind::Notify,
            Command::Decrypt { .. } => Kind::Decrypt,
            _ => Kind::Other,
        }
    }
}

/// What to do about an SDK error, for this subcommand.
fn hint(e: &sosopay::Error, kind: Kind) -> Option<&'static str> {
    use sosopay::Error;
    match (kind, e) {
        (Kind::Notify, Error::Signature { .. }) => Some(
            "check the key given by --key or SOSOPAY_KEY, pass the body and the query string \
             byte for byte as received, and for an age failure this machine's clock or --max-age",
        ),
        (Kind::Notify, Error::Crypto { .. }) => Some(
            "check the key given by --key or SOSOPAY_KEY, and pass the body byte for byte as \
             received",
        ),
        (Kind::Decrypt, Error::Crypto { .. }) => Some(
            "check the key given by --key or SOSOPAY_KEY, and that stdin holds the Base64 \
             ciphertext",
        ),
        (Kind::MovesMoney | Kind::Query, Error::Gateway { code, .. })
            if *code == sosopay::ResultCode::InvalidSign =>
        {
            Some("the gateway rejected the signature: check the merchant key and merchant code")
        }
        (Kind::MovesMoney, e) if e.outcome_unknown() => Some(
            "outcome unknown: query the order with `sosopay query CHARGE_CODE` before retrying \
             or charging again",
        ),
        (Kind::Query, e) if e.is_retryable() => Some("a query moves no money: it can be retried"),
        _ => None,
    }
}

fn key(k: &str) -> Result<MerchantKey, CliError> {
    Ok(MerchantKey::new(k)?)
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Sandbox(args) => sosopay_sandbox::run(args).map_err(|e| match e {
            sosopay_sandbox::SandboxError::Io(io)
                if io.kind() == std::io::ErrorKind::BrokenPipe =>
            {
                CliError::Quiet(0)
            }
            e @ sosopay_sandbox::SandboxError::Config { .. } => CliError::invalid(e.to_string()),
            e => CliError::msg(e.to_string()),
        }),
        Command::Op(op) => ops::run(&op),
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
            previous_key,
            busi_code,
        } => tools::notify(
            &key(&k)?,
            &previous_key,
            busi_code.as_deref(),
            &query,
            max_age,
        ),
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
        output::error_line(&format!("sosopay: internal error: {msg}"));
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
                // A closed stdout (`--help | head`) is no error: nothing to report.
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(EXIT_INVALID)
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
            output::error_line(&format!(
                "sosopay: {} (see sosopay --help)",
                line.trim_start_matches("error: ")
            ));
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let kind = Kind::of(&cli.command);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Quiet(code)) => ExitCode::from(code),
        Err(CliError::Msg(m)) => {
            output::error_line(&format!("sosopay: {m}"));
            ExitCode::from(EXIT_FAILURE)
        }
        Err(CliError::Invalid(m)) => {
            output::error_line(&format!("sosopay: {m}"));
            ExitCode::from(EXIT_INVALID)
        }
        Err(CliError::Sdk(e)) => {
            let hint = hint(&e, kind)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            output::error_line(&format!("sosopay: {e}{hint}"));
            ExitCode::from(if matches!(e, sosopay::Error::Validation { .. }) {
                EXIT_INVALID
            } else {
                EXIT_FAILURE
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn walk(cmd: &clap::Command, path: &str, f: &mut impl FnMut(&str, &clap::Command)) {
        f(path, cmd);
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), f);
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_option_and_argument_has_help() {
        let mut missing = Vec::new();
        walk(&Cli::command(), "sosopay", &mut |path, cmd| {
            for arg in cmd.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: {}", arg.get_id()));
                }
            }
        });
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }

    #[test]
    fn only_the_operations_take_connection_options() {
        let ops = ["micropay", "order", "query", "refund", "cancel"];
        let conn = ["busi_code", "base_url", "env", "encrypt", "json"];
        walk(&Cli::command(), "sosopay", &mut |path, cmd| {
            let name = cmd.get_name();
            let is_op = ops.contains(&name) && path.split(' ').count() == 2;
            for id in conn {
                let has = cmd.get_arguments().any(|a| a.get_id() == id);
                // `notify --busi-code` restricts the verifier to one merchant (no connection).
                let notify_merchant = name == "notify" && id == "busi_code";
                assert_eq!(has, is_op || notify_merchant, "{path}: --{id}");
            }
        });
    }

    #[test]
    fn hints_fit_the_error_and_the_subcommand() {
        let sig = sosopay::Error::Signature {
            reason: "the notification's signature does not match".into(),
        };
        let h = hint(&sig, Kind::Notify).expect("a hint");
        assert!(h.contains("key") && h.contains("as received") && h.contains("clock"));
        assert!(!h.contains("outcome unknown"));
        let timeout = sosopay::Error::Timeout {
            operation: "micropay".into(),
            after_ms: 1,
        };
        assert!(hint(&timeout, Kind::MovesMoney)
            .expect("a hint")
            .contains("outcome unknown"));
        let garbled = sosopay::Error::Decode {
            reason: "x".into(),
            operation: "preOrder".into(),
        };
        assert!(garbled.outcome_unknown());
        assert!(!hint(&garbled, Kind::Query)
            .unwrap_or_default()
            .contains("outcome unknown"));
        assert_eq!(hint(&garbled, Kind::Other), None);
    }
}
