//! A gateway whose certificate a private CA signs (a TLS-inspecting proxy's, a test gateway's):
//! refused with the built-in roots, reached once the CA is given (`ca_file` / `ca_pem`), by the
//! blocking and the async client, 3DES on; a CA option that cannot be used is a `Validation`
//! error naming it, when the client is built.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::{assert_not_sent, sandbox, untrusted_tls_server, BUSI, KEY};
use sosopay::models::QueryRequest;
use sosopay::{Client, ClientOptions, Error};

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (Debian: openssl)");
    assert!(ok.success(), "openssl {args:?}");
}

/// A private CA (`ca.pem`) and a server certificate for 127.0.0.1 it signs (`server.pem`,
/// `server.key`), plus a certificate of another CA (`other.pem`), in a fresh directory.
fn private_ca(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sosopay-ca-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for name in ["ca", "other"] {
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=sosopay test {name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
    }
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    dir
}

/// An HTTPS front on 127.0.0.1 with `dir`'s server certificate, forwarding every connection to
/// `upstream` (the sandbox's port). Runs until the process ends.
fn https_front(dir: &Path, upstream: u16) -> u16 {
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A handshake the client refuses ends here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                    else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
    });
    port
}

fn options(url: &str) -> ClientOptions {
    ClientOptions {
        busi_code: BUSI.into(),
        key: KEY.into(),
        base_url: Some(url.into()),
        encrypt: Some(true),
        default_oper_id: Some("oper".into()),
        default_dev_id: Some("dev".into()),
        ..ClientOptions::default()
    }
}

fn port_of(url: &str) -> u16 {
    let rest = url.strip_prefix("http://127.0.0.1:").expect("sandbox url");
    rest.split('/').next().expect("port").parse().expect("port")
}

/// The field and reason of a `Validation` error.
fn invalid(e: Error) -> (String, String) {
    match e {
        Error::Validation { field, reason } => (field, reason),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn a_private_ca_is_refused_by_default_and_trusted_once_given() {
    let sb = sandbox(0.01, 1, &[]);
    let dir = private_ca("use");
    let url = format!(
        "https://127.0.0.1:{}/openGateway/openService/",
        https_front(&dir, port_of(&sb.base_url()))
    );
    let query = QueryRequest::by_charge_code("NO-SUCH-ORDER");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // The built-in roots: refused during the handshake, nothing sent.
    let plain = Client::new(options(&url).into_config().expect("config")).expect("client");
    let e = plain.query(&query).expect_err("untrusted CA");
    assert_not_sent(&e);
    // The reason says what to do.
    assert!(
        e.to_string().contains("UnknownIssuer") && e.to_string().contains("ca_file or ca_pem"),
        "{e}"
    );

    // Another CA given: still refused (the roots are replaced, not merged with anything).
    let mut o = options(&url);
    o.ca_file = Some(dir.join("other.pem").display().to_string());
    let other = Client::new(o.into_config().expect("config")).expect("client");
    assert_not_sent(&other.query(&query).expect_err("another CA"));

    // The CA as a file, then as PEM text: the sandbox answers through the front (an unknown
    // order is the gateway's answer, so the request went there and back, 3DES on).
    let pem = std::fs::read_to_string(dir.join("ca.pem")).expect("ca.pem");
    let mut by_file = options(&url);
    by_file.ca_file = Some(dir.join("ca.pem").display().to_string());
    let mut by_text = options(&url);
    // As a Windows tool may save it: a byte order mark, CRLF line ends.
    by_text.ca_pem = Some(format!(
        "\u{feff}{}\r\n{}",
        pem.replace('\n', "\r\n"),
        std::fs::read_to_string(dir.join("other.pem")).expect("other")
    ));
    for o in [by_file, by_text] {
        let config = o.into_config().expect("config");
        assert!(config
            .ca_certificates
            .as_ref()
            .is_some_and(|c| !c.is_empty()));
        let client = Client::new(config).expect("client");
        let e = client.query(&query).expect_err("no such order");
        assert!(
            matches!(e, Error::Gateway { .. }),
            "the gateway's own answer, through TLS: {e:?}"
        );
        // The async client (hyper) trusts the same CA.
        let e = rt
            .block_on(client.query_async(&query))
            .expect_err("no such order");
        assert!(
            matches!(e, Error::Gateway { .. }),
            "async, through TLS: {e:?}"
        );
    }

    // And the async client refuses the private CA by default, saying what to do.
    let e = rt
        .block_on(plain.query_async(&query))
        .expect_err("untrusted CA");
    assert_not_sent(&e);
    assert!(e.to_string().contains("ca_file or ca_pem"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_ca_option_that_cannot_be_used_is_refused_naming_it() {
    let dir = private_ca("bad");
    let url = "https://127.0.0.1:9/openGateway/openService/";
    let with = |file: Option<PathBuf>, pem: Option<&str>| {
        let mut o = options(url);
        o.ca_file = file.map(|p| p.display().to_string());
        o.ca_pem = pem.map(str::to_owned);
        invalid(o.into_config().expect_err("refused"))
    };

    let (field, reason) = with(Some(dir.join("missing.pem")), None);
    assert_eq!(field, "ca_file");
    assert!(
        reason.contains("missing.pem") && reason.contains("cannot read"),
        "{reason}"
    );

    std::fs::write(dir.join("empty.pem"), "no certificate here\n").expect("write");
    let (field, reason) = with(Some(dir.join("empty.pem")), None);
    assert_eq!(field, "ca_file");
    assert!(reason.contains("no PEM certificate"), "{reason}");

    // A key is not a trust anchor (and has no place in a CA file).
    let (field, reason) = with(Some(dir.join("ca.key")), None);
    assert_eq!(field, "ca_file");
    assert!(reason.contains("not a certificate"), "{reason}");

    let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let (field, reason) = with(None, Some(garbage));
    assert_eq!(field, "ca_pem");
    assert!(reason.contains("certificate 1"), "{reason}");

    let pem = std::fs::read_to_string(dir.join("ca.pem")).expect("ca.pem");
    let (field, reason) = with(Some(dir.join("ca.pem")), Some(&pem));
    assert_eq!(field, "ca_file");
    assert!(reason.contains("ca_pem"), "{reason}");

    // The configuration prints how many CAs it holds, not the certificates.
    let mut o = options(url);
    o.ca_pem = Some(pem);
    let shown = format!("{:?}", o.into_config().expect("config"));
    assert!(shown.contains("CaCertificates(1 certificates)"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server presenting a CA certificate as its own (`openssl req -x509` makes one by default)
/// is refused even when that certificate is the trusted CA: the reason says how to fix it.
#[test]
fn a_ca_certificate_served_as_the_servers_own_is_explained() {
    let (_server, url) = untrusted_tls_server();
    let cert = std::env::temp_dir()
        .join(format!("sosopay-tls-{}", std::process::id()))
        .join("cert.pem");
    let mut o = options(&url);
    o.ca_file = Some(cert.display().to_string());
    let client = Client::new(o.into_config().expect("config")).expect("client");
    let e = client
        .query(&QueryRequest::by_charge_code("TLS-CA"))
        .expect_err("refused");
    assert_not_sent(&e);
    assert!(
        e.to_string()
            .contains("presents a CA certificate as its own"),
        "{e}"
    );
}

/// The command-line tool takes the CA too (`--ca-file`, `SOSOPAY_CA_FILE`).
#[test]
fn the_command_line_tool_trusts_the_ca_given() {
    let sb = sandbox(0.01, 3, &[]);
    let dir = private_ca("cli");
    let url = format!(
        "https://127.0.0.1:{}/openGateway/openService/",
        https_front(&dir, port_of(&sb.base_url()))
    );
    let run = |ca: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sosopay"));
        cmd.args([
            "query",
            "NO-SUCH-ORDER",
            "--busi-code",
            BUSI,
            "--base-url",
            &url,
        ])
        .env("SOSOPAY_KEY", KEY)
        .env_remove("SOSOPAY_CA_FILE");
        if let Some(ca) = ca {
            cmd.env("SOSOPAY_CA_FILE", ca);
        }
        let out = cmd.output().expect("sosopay");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let refused = run(None);
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    // The tool's option and variable, not the runtimes' settings; no retry hint.
    assert!(
        refused.contains("--ca-file or SOSOPAY_CA_FILE") && !refused.contains("caFile"),
        "{refused}"
    );
    assert!(!refused.contains("can be retried"), "{refused}");
    let answered = run(Some(&dir.join("ca.pem")));
    assert!(
        answered.contains("CHARGE_NONEXISTENT"),
        "the gateway's answer through TLS: {answered}"
    );
    let unreadable = run(Some(&dir.join("missing.pem")));
    assert!(
        unreadable.contains("invalid --ca-file: cannot read"),
        "{unreadable}"
    );
    assert!(
        unreadable.contains("(the value of SOSOPAY_CA_FILE)"),
        "{unreadable}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TLS server (`dir`'s certificate) in a thread, on std sockets: it completes the handshake,
/// reads one request, then sends a whole reply's TLS records one byte every `gap` (a slow link
/// or a middlebox). Returns the base URL.
fn trickling_https_server(dir: &Path, gap: std::time::Duration) -> String {
    use std::io::{Read as _, Write as _};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config"),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let mut conn = rustls::ServerConnection::new(config).expect("server connection");
                while conn.is_handshaking() {
                    if conn.complete_io(&mut tcp).is_err() {
                        return;
                    }
                }
                // The request: read until its head has come (a query has no body).
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    if conn.complete_io(&mut tcp).is_err() {
                        return;
                    }
                    let mut buf = [0u8; 4096];
                    match conn.reader().read(&mut buf) {
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
                let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
                conn.writer().write_all(reply).expect("plaintext");
                let mut records = Vec::new();
                while conn.wants_write() {
                    conn.write_tls(&mut records).expect("records");
                }
                for b in records {
                    if tcp.write_all(&[b]).is_err() {
                        return;
                    }
                    std::thread::sleep(gap);
                }
            });
        }
    });
    format!("https://127.0.0.1:{port}/openGateway/openService/")
}

/// A TCP server that answers a ClientHello with the start of a 16 KiB handshake record, then
/// one byte every `gap`: a handshake that never ends in time.
fn trickling_handshake_server(gap: std::time::Duration) -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            std::thread::spawn(move || {
                let mut hello = [0u8; 512];
                let _ = tcp.read(&mut hello);
                if tcp
                    .write_all(&[0x16, 0x03, 0x03, 0x40, 0x00, 0x02])
                    .is_err()
                {
                    return;
                }
                for _ in 0..16_000 {
                    if tcp.write_all(&[0]).is_err() {
                        return;
                    }
                    std::thread::sleep(gap);
                }
            });
        }
    });
    format!("https://127.0.0.1:{port}/openGateway/openService/")
}

#[test]
fn a_tls_peer_sending_a_byte_now_and_then_never_holds_a_call_past_its_time() {
    // rustls reads until a whole record has come: a socket timeout between two bytes alone let
    // a slow handshake hold a query for ever, and a reply arriving a byte every 100 ms take
    // 80 s against a 2 s timeout. Every read now ends by the attempt's deadline.
    use std::time::{Duration, Instant};
    let dir = private_ca("trickle");
    let query = QueryRequest::by_charge_code("Q-1");
    let client = |url: &str| {
        let mut o = options(url);
        o.ca_file = Some(dir.join("ca.pem").display().to_string());
        o.connect_timeout = Some(Duration::from_secs(1));
        o.timeout = Some(Duration::from_secs(2));
        o.retry_max_attempts = Some(1);
        Client::new(o.into_config().expect("config")).expect("client")
    };

    let started = Instant::now();
    let e = client(&trickling_handshake_server(Duration::from_millis(50)))
        .query(&query)
        .expect_err("a handshake that never ends");
    let took = started.elapsed();
    assert_not_sent(&e);
    assert!(took < Duration::from_secs(3), "{took:?}: {e}");

    let started = Instant::now();
    let e = client(&trickling_https_server(&dir, Duration::from_millis(100)))
        .query(&query)
        .expect_err("a reply that never ends in time");
    let took = started.elapsed();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(took < Duration::from_secs(4), "{took:?}: {e}");
    let _ = std::fs::remove_dir_all(&dir);
}
