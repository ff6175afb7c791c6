//! Both clients behind a proxy from the environment: they go through the proxy (the blocking
//! client sends through ureq, which reads `ALL_PROXY` / `HTTPS_PROXY` / `HTTP_PROXY` and
//! `NO_PROXY`, and the async client runs the blocking one); a gateway listed in `NO_PROXY` is
//! reached directly, by the clients' own transport. Its own test binary: it sets the process's
//! environment.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sosopay::models::QueryRequest;
use sosopay::{Client, ClientConfig, Error, ResultCode};
use sosopay_sandbox::{Sandbox, SandboxConfig};

/// A minimal HTTP CONNECT proxy on 127.0.0.1; counts the tunnels it opened.
fn connect_proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let count = count.clone();
            std::thread::spawn(move || tunnel(client, &count));
        }
    });
    (port, tunnels)
}

fn tunnel(client: TcpStream, count: &AtomicUsize) {
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let Some(target) = line
        .strip_prefix("CONNECT ")
        .and_then(|r| r.split(' ').next())
    else {
        return;
    };
    let target = target.to_owned();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header == "\r\n" || header.is_empty() {
            break;
        }
    }
    let Ok(upstream) = TcpStream::connect(&target) else {
        return;
    };
    count.fetch_add(1, Ordering::SeqCst);
    let mut c = client;
    if c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut up_r, mut up_w) = (upstream.try_clone().expect("clone"), upstream);
    let mut c_w = c.try_clone().expect("clone");
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut c_w);
    });
    let _ = std::io::copy(&mut reader, &mut up_w);
}

#[test]
fn both_clients_honour_the_environment_proxy() {
    let sb = Sandbox::start(SandboxConfig {
        time_scale: 0.02,
        ..Default::default()
    })
    .expect("sandbox");
    let (port, tunnels) = connect_proxy();
    for v in [
        "NO_PROXY",
        "no_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "all_proxy",
    ] {
        std::env::remove_var(v);
    }
    std::env::set_var("ALL_PROXY", format!("http://127.0.0.1:{port}"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // A new client each time: the proxy is read when the client is built.
    let query = |blocking: bool| {
        let config = ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            sb.base_url(),
        )
        .expect("config");
        let c = Client::new(config).expect("client");
        if blocking {
            return c
                .query(&QueryRequest::by_charge_code("PROXY-1"))
                .expect_err("no such order");
        }
        rt.block_on(async move {
            c.query_async(&QueryRequest::by_charge_code("PROXY-1"))
                .await
                .expect_err("no such order")
        })
    };
    let gateway_answered = |e: &Error| matches!(e, Error::Gateway { code, .. } if *code == ResultCode::ChargeNonexistent);

    for blocking in [false, true] {
        let before = tunnels.load(Ordering::SeqCst);
        let e = query(blocking);
        assert!(gateway_answered(&e), "{e:?}");
        assert!(
            tunnels.load(Ordering::SeqCst) > before,
            "the request went through the proxy (blocking: {blocking})"
        );
    }

    // The gateway's host in NO_PROXY: straight to it.
    std::env::set_var("NO_PROXY", "127.0.0.1");
    let before = tunnels.load(Ordering::SeqCst);
    for blocking in [false, true] {
        let e = query(blocking);
        assert!(gateway_answered(&e), "{e:?}");
    }
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        before,
        "NO_PROXY: not through the proxy"
    );
    std::env::remove_var("NO_PROXY");

    // A proxy that refuses the tunnel (407, 403, 502): nothing reached the gateway, so the
    // error says so (it read "maybe sent" when ureq carried it), and the proxy's credentials
    // from its URL went as Basic authorization, never into the error.
    let within = |c: &mut ClientConfig| {
        c.connect_timeout = Duration::from_secs(1);
        c.timeout = Duration::from_secs(2);
        c.retry.max_attempts = 1;
    };
    let client = |tweak: &dyn Fn(&mut ClientConfig)| {
        let mut config = ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            sb.base_url(),
        )
        .expect("config");
        tweak(&mut config);
        Client::new(config).expect("client")
    };
    let (refusing, seen) = scripted_proxy(|_| {
        vec![b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n".to_vec()]
    });
    std::env::set_var(
        "ALL_PROXY",
        format!("http://shop:s3cret@127.0.0.1:{refusing}"),
    );
    for blocking in [true, false] {
        let c = client(&within);
        let e = if blocking {
            c.query(&QueryRequest::by_charge_code("PROXY-2"))
                .expect_err("refused")
        } else {
            rt.block_on(c.query_async(&QueryRequest::by_charge_code("PROXY-2")))
                .expect_err("refused")
        };
        match &e {
            Error::Transport {
                maybe_sent: false,
                reason,
                ..
            } => {
                assert!(
                    reason.contains("407") && !reason.contains("s3cret"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    let asked = seen.lock().expect("seen").clone();
    assert!(asked.contains("CONNECT 127.0.0.1:"), "{asked}");
    // base64("shop:s3cret")
    assert!(
        asked.contains("Proxy-Authorization: Basic c2hvcDpzM2NyZXQ="),
        "{asked}"
    );

    // A proxy answering CONNECT a byte every 200 ms: the connect timeout (1 s) holds; before,
    // every byte gave the next read the whole timeout again.
    let mut slow = b"HTTP/1.1 200 Connection established\r\nX-Pad: ".to_vec();
    slow.extend(std::iter::repeat_n(b'a', 200));
    let (trickling, _) = scripted_proxy(move |_| slow.iter().map(|b| vec![*b]).collect());
    std::env::set_var("ALL_PROXY", format!("http://127.0.0.1:{trickling}"));
    let started = std::time::Instant::now();
    let e = client(&within)
        .query(&QueryRequest::by_charge_code("PROXY-3"))
        .expect_err("too slow");
    let took = started.elapsed();
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
    assert!(took < Duration::from_secs(3), "{took:?}");

    // A status line that is not `HTTP/1.x NNN` is no tunnel; a head ended by bare LFs is read
    // (its refusal quoted, not a timeout).
    for (answer, words) in [
        (&b"HTTP/1.1 2000 Weird\r\n\r\n"[..], "2000 Weird"),
        (&b"HTTP/1.1 407 Who\n\n"[..], "407 Who"),
    ] {
        let (port, _) = scripted_proxy(move |_| vec![answer.to_vec()]);
        std::env::set_var("ALL_PROXY", format!("http://127.0.0.1:{port}"));
        match client(&within).query(&QueryRequest::by_charge_code("PROXY-4")) {
            Err(Error::Transport {
                maybe_sent: false,
                reason,
                ..
            }) => {
                assert!(
                    reason.contains(words) && reason.contains("refused"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    // Refused when the client is built, naming `proxy` and the variable, never its value: a
    // variable ureq cannot read (a Windows DOMAIN\user, spaces around it), which it skipped,
    // and a SOCKS proxy, which ureq (built without SOCKS) bypassed; either way the client went
    // straight to the gateway.
    for (bad, says, secret) in [
        ("http://CORP\\bob:pw@127.0.0.1:3128", "ALL_PROXY", "pw@"),
        (" http://127.0.0.1:3128", "ALL_PROXY", "3128"),
        ("socks5://shop:s3cret@127.0.0.1:1080", "NO_PROXY", "s3cret"),
    ] {
        std::env::set_var("ALL_PROXY", bad);
        let config = ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            sb.base_url(),
        )
        .expect("config");
        match Client::new(config) {
            Err(Error::Validation { field, reason }) => {
                assert_eq!(field, "proxy");
                assert!(
                    reason.contains(says) && !reason.contains(secret),
                    "{reason}"
                );
            }
            other => panic!("{bad}: {:?}", other.map(|_| ())),
        }
    }
    std::env::remove_var("ALL_PROXY");
}

/// A proxy on 127.0.0.1 that reads a request's head, records it, and sends `answer(head)`'s
/// pieces 200 ms apart (then holds the connection).
fn scripted_proxy(
    answer: impl Fn(&str) -> Vec<Vec<u8>> + Send + Sync + 'static,
) -> (u16, Arc<std::sync::Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let record = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (record, answer) = (record.clone(), answer.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().expect("clone"));
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                record.lock().expect("record").push_str(&head);
                let mut c = client;
                let pieces = answer(&head);
                let many = pieces.len() > 1;
                for p in pieces {
                    if c.write_all(&p).is_err() {
                        return;
                    }
                    if many {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                std::thread::sleep(Duration::from_secs(5));
            });
        }
    });
    (port, seen)
}
