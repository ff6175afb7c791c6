//! Helpers shared by the client tests (`client.rs`, `async_client.rs`): a sandbox, a client
//! configuration for it, money.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sosopay::codec::Format;
use sosopay::{Amount, ClientConfig, Error, ResultCode, RetryPolicy};
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig};

pub const BUSI: &str = "0010000001";
pub const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";

/// A sandbox at `time_scale`, with the fault rules `faults` drawn from `seed`.
pub fn sandbox(time_scale: f64, seed: u64, faults: &[&str]) -> Sandbox {
    let config = SandboxConfig {
        time_scale,
        seed,
        faults: faults
            .iter()
            .map(|f| f.parse::<FaultRule>().expect("fault rule"))
            .collect(),
        ..Default::default()
    };
    Sandbox::start(config).expect("start sandbox")
}

/// The test merchant at `base_url`: default operator and till, short timeouts, 4 attempts of
/// idempotent requests 20 to 100 ms apart.
pub fn config(base_url: &str, encrypt: bool, format: Format) -> ClientConfig {
    let mut c = ClientConfig::new(BUSI, KEY, base_url).expect("config");
    c.encrypt = encrypt;
    c.format = format;
    c.default_oper_id = Some("oper".into());
    c.default_dev_id = Some("dev".into());
    c.timeout = Duration::from_secs(5);
    c.micropay_timeout = Duration::from_secs(10);
    c.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    c
}

pub fn yuan(s: &str) -> Amount {
    Amount::parse_yuan(s).expect("amount")
}

/// The gateway's code of a [`Error::Gateway`].
pub fn gateway_code(e: &Error) -> Option<ResultCode> {
    match e {
        Error::Gateway { code, .. } => Some(code.clone()),
        _ => None,
    }
}

/// A child process, killed when dropped.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An HTTPS server whose certificate no public root signs (`openssl s_server`).
pub fn untrusted_tls_server() -> (Server, String) {
    let dir = std::env::temp_dir().join(format!("sosopay-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let ok = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (Debian: openssl)");
    assert!(ok.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(port.to_string())
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let server = Server(child);
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        server,
        format!("https://127.0.0.1:{port}/openGateway/openService/"),
    )
}

/// `e` says the request surely never reached the gateway: a transport error with
/// `maybe_sent: false`, and so not an unknown outcome.
pub fn assert_not_sent(e: &Error) {
    assert!(
        matches!(
            e,
            Error::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.outcome_unknown(), "{e:?}");
}

/// Runs `cmd` (the `sosopay` binary as the caller set it up) with `stdin` as its input, and
/// waits for its output.
pub fn run_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sosopay");
    // A run that ends before reading its input (a refused argument) closes the pipe: not an
    // error of the test's.
    if let Err(e) = child.stdin.take().expect("stdin").write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child.wait_with_output().expect("wait")
}
