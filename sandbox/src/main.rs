//! `sosopay-sandbox`: the sandbox gateway as a standalone program (the same as `sosopay sandbox`).

use clap::Parser;

/// The program's allocator is mimalloc, not glibc's malloc: the sandbox builds and frees a few
/// hundred small objects per request (its parsed request, the reply's tree and text), and glibc's
/// share of its CPU was about 13 % (`perf`); mimalloc takes about 3 µs off each query's user CPU
/// (docs/BENCHMARKS.md, "The sandbox's own CPU"). A library cannot choose the allocator: the
/// sandbox embedded in the Python, Node and Kotlin testing kits uses its host's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
