//! `sosopay`: the demo, the sandbox gateway, gateway operations and support tools.

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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
pub const EXIT_FAILURE: u8 = 1;
/// Exit status of invalid input: arguments, options, environment variables, settings.
const EXIT_INVALID: u8 = 2;
/// Exit status of an operation whose outcome is unknown or not settled: money may have moved
/// (or may still move), so query the order before acting. Never a definite failure.
pub const EXIT_UNKNOWN: u8 = 3;

/// The exit statuses, for the help of the tool and of its money operations.
pub const EXIT_STATUS_HELP: &str = "Exit status: 0 success (a micropay only when the reply shows \
the order paid); 1 failure; 2 invalid input; 3 outcome unknown or not settled (money may have \
moved or may still move: query the order before acting or charging again)";

/// The `SOSOPAY_*` variables that were set but empty (or blank) when the tool started: they
/// count as unset (a deployment blanks a variable after a key rotation).
static BLANK_VARS: OnceLock<Vec<String>> = OnceLock::new();

/// The options whose value came from an environment variable: (option id, variable).
static FROM_ENV: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Unsets every `SOSOPAY_*` variable that is empty or blank, before the command line is read,
/// so that clap sees it as absent, and remembers their names.
fn unset_blank_variables() {
    let blank: Vec<String> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            let blank = v.to_str().is_some_and(|v| v.trim().is_empty());
            (k.starts_with("SOSOPAY_") && blank).then_some(k)
        })
        .collect();
    for k in &blank {
        // Single-threaded still: nothing else reads the environment yet.
        std::env::remove_var(k);
    }
    let _ = BLANK_VARS.set(blank);
}

/// `" (SOSOPAY_X is set but empty, which counts as unset)"` when `var` was blank, else "".
pub fn blank_note(var: &str) -> String {
    if BLANK_VARS.get().is_some_and(|b| b.iter().any(|v| v == var)) {
        format!(" ({var} is set but empty, which counts as unset)")
    } else {
        String::new()
    }
}

/// The variable an option's value came from (by the option's id), when it came from one.
pub fn env_source(id: &str) -> Option<&'static str> {
    FROM_ENV
        .get()?
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, v)| v.as_str())
}

/// Records which of the subcommand's options took their value from the environment.
fn record_env_sources(cmd: &clap::Command, m: &clap::ArgMatches) {
    let mut found = Vec::new();
    if let Some((name, sub)) = m.subcommand() {
        if let Some(sc) = cmd.find_subcommand(name) {
            for arg in sc.get_arguments() {
                let id = arg.get_id().as_str();
                let from_env = sub.ids().any(|i| i.as_str() == id)
                    && sub.value_source(id) == Some(clap::parser::ValueSource::EnvVariable);
                if let (true, Some(var)) = (from_env, arg.get_env()) {
                    found.push((id.to_owned(), var.to_string_lossy().into_owned()));
                }
            }
        }
    }
    let _ = FROM_ENV.set(found);
}

/// A validation error about an option whose value came from the environment, saying so: the
/// option is named as a flag (`--ca-file`), the variable appended to the reason.
pub fn name_env_source(e: sosopay::Error) -> sosopay::Error {
    match e {
        sosopay::Error::Validation { field, reason } => {
            let var = field
                .strip_prefix("--")
                .and_then(|f| env_source(&f.replace('-', "_")));
            let reason = match var {
                Some(var) => format!("{reason} (the value of {var})"),
                None => reason,
            };
            sosopay::Error::Validation { field, reason }
        }
        other => other,
    }
}

/// An error to print as one line on stderr.
#[derive(Debug)]
pub enum CliError {
    /// A failure (exit 1).
    Msg(String),
    /// Invalid input: a missing or malformed argument, option, variable or setting (exit 2).
    Invalid(String),
    /// The SDK's error (exit 1; 2 for invalid input; 3 when a money operation's outcome is
    /// unknown).
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
#[command(name = "sosopay", version, about = "The SouSou payment gateway SDK's command-line tool", long_about = None, after_help = EXIT_STATUS_HELP)]
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
        #[arg(long, value_name = "CHARGE_CODE", conflicts_with = "cancel")]
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
        /// A merchant key being rotated out, also accepted (comma-separated in the variable;
        /// spaces around the commas and an empty variable are ignored).
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

/// What to do about an SDK error, for this subcommand. `unknown` is the advice for a money
/// operation whose outcome is unknown (it names the order: [`ops::Op::unknown_advice`]).
fn hint(e: &sosopay::Error, kind: Kind, unknown: &str) -> Option<String> {
    use sosopay::Error;
    let h = match (kind, e) {
        (Kind::Notify, Error::Signature { .. }) => {
            "check the key given by --key or SOSOPAY_KEY, pass the body and the query string \
             byte for byte as received, and for an age failure this machine's clock or --max-age"
        }
        (Kind::Notify, Error::Crypto { .. }) => {
            "check the key given by --key or SOSOPAY_KEY, and pass the body byte for byte as \
             received"
        }
        (Kind::Decrypt, Error::Crypto { .. }) => {
            "check the key given by --key or SOSOPAY_KEY, and that stdin holds the Base64 \
             ciphertext"
        }
        (Kind::MovesMoney | Kind::Query, Error::Gateway { code, .. })
            if *code == sosopay::ResultCode::InvalidSign =>
        {
            "the gateway rejected the signature: check the merchant key and merchant code"
        }
        (Kind::MovesMoney, e) if e.outcome_unknown() => return Some(unknown.to_owned()),
        // The core's reason names the settings ([`cli_terms`] makes them the tool's): a
        // retry would not help.
        (Kind::MovesMoney | Kind::Query, Error::Transport { reason, .. })
            if reason.contains("UnknownIssuer") && reason.contains(CORE_CA_SETTINGS) =>
        {
            return None
        }
        (Kind::MovesMoney | Kind::Query, Error::Transport { reason, .. })
            if reason.contains("UnknownIssuer") =>
        {
            "give the tool the CA that signs the gateway's certificate (a TLS-inspecting \
             proxy's, a private CA's) as a PEM file: --ca-file FILE or SOSOPAY_CA_FILE"
        }
        (Kind::Query, e) if e.is_retryable() => "a query moves no money: it can be retried",
        _ => return None,
    };
    Some(h.to_owned())
}

/// The core's advice on an unknown TLS issuer names the runtimes' settings; the tool's are
/// its option and variable.
fn cli_terms(message: String) -> String {
    message.replace(CORE_CA_SETTINGS, "--ca-file or SOSOPAY_CA_FILE")
}

/// How the core's TLS error names the CA settings (of the runtimes).
const CORE_CA_SETTINGS: &str = "ca_file or ca_pem; caFile or caPem in JS, Kotlin and Swift";

/// The exit status of an SDK error: 2 for invalid input, 3 when a money operation's outcome
/// is unknown, else 1.
fn exit_status(e: &sosopay::Error, kind: Kind) -> u8 {
    if matches!(e, sosopay::Error::Validation { .. }) {
        EXIT_INVALID
    } else if kind == Kind::MovesMoney && e.outcome_unknown() {
        EXIT_UNKNOWN
    } else {
        EXIT_FAILURE
    }
}

/// The command whose help to point to in a usage error: `sosopay micropay` when the command
/// line names a subcommand (its first word that is not an option), else `sosopay`.
fn help_command(args: &[String]) -> String {
    let cmd = Cli::command();
    match args.iter().skip(1).find(|a| !a.starts_with('-')) {
        Some(sub) if sub != "help" && cmd.find_subcommand(sub).is_some() => {
            format!("sosopay {sub}")
        }
        _ => "sosopay".into(),
    }
}

fn key(k: &str) -> Result<MerchantKey, CliError> {
    MerchantKey::new(k)
        .map_err(|e| name_env_source(e.renamed_fields(&[("key", "--key")])))
        .map_err(CliError::from)
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
            &tools::previous_keys(previous_key, env_source("previous_key").is_some()),
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
    unset_blank_variables();
    let parsed = Cli::command().try_get_matches().and_then(|m| {
        record_env_sources(&Cli::command(), &m);
        Cli::from_arg_matches(&m)
    });
    let cli = match parsed {
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
                "sosopay: {} (see `{} --help`)",
                line.trim_start_matches("error: "),
                help_command(&std::env::args().collect::<Vec<_>>())
            ));
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let kind = Kind::of(&cli.command);
    let unknown = match &cli.command {
        Command::Op(op) => op.unknown_advice(),
        _ => String::new(),
    };
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
            let hint = hint(&e, kind, &unknown)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            output::error_line(&cli_terms(format!("sosopay: {e}{hint}")));
            ExitCode::from(exit_status(&e, kind))
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
        let advice = "outcome unknown: query C-1";
        let sig = sosopay::Error::Signature {
            reason: "the notification's signature does not match".into(),
        };
        let h = hint(&sig, Kind::Notify, advice).expect("a hint");
        assert!(h.contains("key") && h.contains("as received") && h.contains("clock"));
        assert!(!h.contains("outcome unknown"));
        assert_eq!(exit_status(&sig, Kind::Notify), EXIT_FAILURE);
        let timeout = sosopay::Error::Timeout {
            operation: "micropay".into(),
            after_ms: 1,
        };
        assert_eq!(
            hint(&timeout, Kind::MovesMoney, advice).as_deref(),
            Some(advice)
        );
        assert_eq!(exit_status(&timeout, Kind::MovesMoney), EXIT_UNKNOWN);
        let garbled = sosopay::Error::Decode {
            reason: "x".into(),
            operation: "preOrder".into(),
        };
        assert!(garbled.outcome_unknown());
        assert!(!hint(&garbled, Kind::Query, advice)
            .unwrap_or_default()
            .contains("outcome unknown"));
        assert_eq!(hint(&garbled, Kind::Other, advice), None);
        let invalid = sosopay::Error::Validation {
            field: "amount".into(),
            reason: "x".into(),
        };
        assert_eq!(exit_status(&invalid, Kind::MovesMoney), EXIT_INVALID);
        // An unknown TLS issuer: the tool's option and variable, not the runtimes' settings.
        let tls = sosopay::Error::Transport {
            operation: "query".into(),
            reason: format!("invalid peer certificate: UnknownIssuer (... given to the client: {CORE_CA_SETTINGS})"),
            maybe_sent: false,
        };
        assert_eq!(hint(&tls, Kind::Query, advice), None, "no retry hint");
        assert!(cli_terms(tls.to_string()).contains("--ca-file or SOSOPAY_CA_FILE"));
        let tls = sosopay::Error::Transport {
            operation: "query".into(),
            reason: "invalid peer certificate: UnknownIssuer".into(),
            maybe_sent: false,
        };
        assert!(hint(&tls, Kind::Query, advice)
            .expect("a hint")
            .contains("--ca-file FILE or SOSOPAY_CA_FILE"));
    }

    #[test]
    fn usage_errors_point_to_the_subcommand_help() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            help_command(&args(&["sosopay", "micropay", "--amount", "-1"])),
            "sosopay micropay"
        );
        assert_eq!(help_command(&args(&["sosopay", "frob"])), "sosopay");
        assert_eq!(help_command(&args(&["sosopay", "--bogus"])), "sosopay");
        assert_eq!(help_command(&args(&["sosopay"])), "sosopay");
    }
}
