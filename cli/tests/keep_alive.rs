//! Kept-alive connections and money: a request that moves money (micropay, an order, a refund)
//! never goes out on a connection idle for longer than 2 s, which a server may be closing as it
//! is sent (its keep-alive timeout), leaving the payment's outcome unknown though the gateway
//! never saw it; it opens a fresh one. Other requests reuse connections idle up to 15 s. Blocking
//! and async clients, counted at a forwarding front before the sandbox.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{config, gateway_code, sandbox, yuan};
use sosopay::codec::Format;
use sosopay::models::{OrderRequest, QueryRequest};
use sosopay::{Channel, Client, ResultCode};

/// A TCP front forwarding to `upstream`; counts the connections clients opened.
fn counting_front(upstream: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (c2, u2) = (
                client.try_clone().expect("clone"),
                up.try_clone().expect("clone"),
            );
            std::thread::spawn(move || pipe(client, up));
            std::thread::spawn(move || pipe(u2, c2));
        }
    });
    (port, opened)
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn port_of(url: &str) -> u16 {
    let rest = url.strip_prefix("http://127.0.0.1:").expect("sandbox url");
    rest.split('/').next().expect("port").parse().expect("port")
}

fn order(code: &str) -> OrderRequest {
    OrderRequest::new(code, yuan("1.00"), Channel::Wechat, "keep-alive")
}

/// Past the 2 s a connection may be idle to carry money, and well inside the 15 s of the others.
const IDLE: Duration = Duration::from_millis(2600);

#[test]
fn money_takes_a_fresh_connection_after_two_idle_seconds_blocking() {
    let sb = sandbox(0.01, 1, &[]);
    let (port, opened) = counting_front(port_of(&sb.base_url()));
    let url = format!("http://127.0.0.1:{port}/openGateway/openService/");
    let client = Client::new(config(&url, true, Format::Json)).expect("client");
    let unknown = |code: &str| {
        let e = client
            .query(&QueryRequest::by_charge_code(code))
            .expect_err("no such order");
        assert_eq!(
            gateway_code(&e),
            Some(ResultCode::ChargeNonexistent),
            "{e:?}"
        );
    };

    unknown("KA-B-Q1");
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    client
        .create_qr_order(&order("KA-B-1"))
        .expect("order on the warm connection");
    assert_eq!(
        opened.load(Ordering::SeqCst),
        1,
        "a connection idle for an instant carries money"
    );

    std::thread::sleep(IDLE);
    unknown("KA-B-Q2");
    assert_eq!(
        opened.load(Ordering::SeqCst),
        1,
        "a query reuses a connection idle for 2.6 s"
    );

    std::thread::sleep(IDLE);
    client.create_qr_order(&order("KA-B-2")).expect("order");
    assert_eq!(
        opened.load(Ordering::SeqCst),
        2,
        "money after 2.6 s idle: a fresh connection"
    );
}

#[test]
fn money_takes_a_fresh_connection_after_two_idle_seconds_async() {
    let sb = sandbox(0.01, 2, &[]);
    let (port, opened) = counting_front(port_of(&sb.base_url()));
    let url = format!("http://127.0.0.1:{port}/openGateway/openService/");
    let client = Client::new(config(&url, true, Format::Json)).expect("client");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let unknown = |code: &'static str| {
            let client = client.clone();
            async move {
                let e = client
                    .query_async(&QueryRequest::by_charge_code(code))
                    .await
                    .expect_err("no such order");
                assert_eq!(
                    gateway_code(&e),
                    Some(ResultCode::ChargeNonexistent),
                    "{e:?}"
                );
            }
        };
        unknown("KA-A-Q1").await;
        assert_eq!(opened.load(Ordering::SeqCst), 1);
        client
            .create_qr_order_async(&order("KA-A-1"))
            .await
            .expect("order on the warm connection");
        assert_eq!(
            opened.load(Ordering::SeqCst),
            1,
            "a connection idle for an instant carries money"
        );

        tokio::time::sleep(IDLE).await;
        unknown("KA-A-Q2").await;
        assert_eq!(
            opened.load(Ordering::SeqCst),
            1,
            "a query reuses a connection idle for 2.6 s"
        );

        tokio::time::sleep(IDLE).await;
        client
            .create_qr_order_async(&order("KA-A-2"))
            .await
            .expect("order");
        assert_eq!(
            opened.load(Ordering::SeqCst),
            2,
            "money after 2.6 s idle: a fresh connection"
        );
    });
}
