//! `sosopay-sandbox`: the sandbox gateway as a standalone program (the same as `sosopay sandbox`).

use clap::Parser;

/// A local, stateful emulator of the SouSou payment gateway, with fault injection.
///
/// Prints the base URL (http://127.0.0.1:PORT/openGateway/openService/) as the first line of
/// stdout, then serves until interrupted. See docs/SANDBOX.md.
#[derive(Parser)]
#[command(name = "sosopay-sandbox", version)]
struct Cli {
    #[command(flatten)]
    args: sosopay_sandbox::SandboxArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match sosopay_sandbox::run(cli.args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sosopay-sandbox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
