//! The floor of client CPU per request on this machine: a bare TCP round trip over loopback to
//! a server in another process (900 bytes out, 600 back, keep-alive, no HTTP, no crypto), the
//! client's marginal CPU measured like `e2e_bench`'s (N and 5N round trips, the difference).
//! No HTTP client can spend less per request than this. Run by hand (docs/BENCHMARKS.md):
//!
//! ```text
//! cargo run --release -p sosopay-cli --example tcp_floor [N]
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

#[path = "common/cpu.rs"]
mod cpu;

/// This process's CPU time (user + system), in microseconds.
fn cpu_us() -> u64 {
    cpu::process_cpu_ns() / 1000
}

fn serve(listener: TcpListener) -> std::io::Result<()> {
    let (mut s, _) = listener.accept()?;
    s.set_nodelay(true)?;
    let mut buf = [0u8; 2048];
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..600])?;
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        println!("{}", listener.local_addr()?);
        return serve(listener);
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut addr = String::new();
    if let Some(out) = child.stdout.as_mut() {
        let mut byte = [0u8; 1];
        while out.read(&mut byte)? == 1 && byte[0] != b'\n' {
            addr.push(char::from(byte[0]));
        }
    }
    let mut s = TcpStream::connect(addr.trim())?;
    s.set_nodelay(true)?;
    let mut buf = [0u8; 2048];
    let mut run = |count: usize| -> std::io::Result<u64> {
        let before = cpu_us();
        for _ in 0..count {
            s.write_all(&buf[..900])?;
            let _ = s.read(&mut buf)?;
        }
        Ok(cpu_us() - before)
    };
    run(500)?;
    let small = run(n)?;
    let large = run(5 * n)?;
    let marginal = large.saturating_sub(small) as f64 / (4 * n) as f64;
    println!("{{\"runtime\":\"tcp-floor\",\"cpu_us_per_round_trip\":{marginal:.1}}}");
    drop(s);
    child.wait()?;
    Ok(())
}
