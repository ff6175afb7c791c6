//! The async client (`features = ["async"]`): every operation as a future, on the caller's
//! tokio runtime. Requests are built, retried, decoded and logged by the same code as the
//! blocking client's (`client.rs`: the `*_request` builders, `settle`, `retry_pause`,
//! `attempt_timeout`); only sending and pausing differ. No thread waits on the network: a
//! server (the Node binding) drives many requests from a few runtime threads.
//!
//! The transport is the blocking one's (`http1`) driven by tokio: the same request bytes, the
//! same reply reader, pool rules, error classes and TLS configuration. TLS verified with
//! rustls and the webpki roots or the configured CAs (TLS 1.2 and 1.3, ring), no redirects, the
//! connect timeout of the configuration and a whole-request timeout per attempt, at most
//! `max_idle_connections` kept-alive connections (a request that moves money never on one idle
//! over 2 s), replies capped at [`MAX_REPLY_BYTES`](crate::client). A connection that could not
//! be set up (refused, DNS, TLS handshake, connect timeout) means nothing was sent; any later
//! failure may have reached the gateway (`maybe_sent`), and a timeout is [`Error::Timeout`].

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::client::{Call, ClientConfig, RawReply};
use crate::error::Result;
use crate::http1::{
    max_age, prepare, server_name, stale_if, unconnected, ConnectBudget, Fail, Pool, ReplyReader,
    Target, Unconnected,
};
use crate::resolve::CachingResolver;

/// The connections of one client.
#[derive(Clone)]
pub(crate) struct Http {
    shared: Arc<Shared>,
}

struct Shared {
    tls: TlsConnector,
    resolver: CachingResolver,
    connect_timeout: Duration,
    pool: Pool<Conn>,
}

/// A connection, and the buffer its replies are read into (kept for its next reply).
struct Conn {
    io: Io,
    buf: Vec<u8>,
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    fn new(io: Io) -> Conn {
        Conn {
            io,
            buf: Vec::new(),
        }
    }

    fn tcp(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
            Io::Tls(s) => s.get_ref().0,
        }
    }

    /// Whether an idle connection can carry a request: nothing to read (the server has neither
    /// closed it nor sent anything unasked).
    fn is_usable(&self) -> bool {
        matches!(self.tcp().try_read(&mut [0u8; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    async fn send(&mut self, request: &[u8]) -> io::Result<()> {
        match &mut self.io {
            Io::Plain(s) => s.write_all(request).await,
            Io::Tls(s) => {
                s.write_all(request).await?;
                s.flush().await
            }
        }
    }
}

impl Http {
    pub(crate) fn new(config: &ClientConfig) -> Result<Http> {
        let tls = crate::tls::client_config(config.ca_certificates.as_ref())?;
        Ok(Http {
            shared: Arc::new(Shared {
                tls: TlsConnector::from(tls),
                resolver: CachingResolver::default(),
                connect_timeout: config.connect_timeout,
                pool: Pool::new(config.max_idle_connections),
            }),
        })
    }

    /// One attempt: the reply's status and text.
    pub(crate) async fn send(&self, call: &Call, timeout: Duration) -> Result<RawReply> {
        let deadline = Instant::now() + timeout;
        let (t, request) = prepare(call)?;
        let me = &self.shared;
        let mut reused = me.pool.take(t.origin, max_age(call), Conn::is_usable);
        loop {
            let was_reused = reused.is_some();
            let mut conn = match reused.take() {
                Some(c) => c,
                None => me.connect(call, &t, deadline).await?,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let exchanged = tokio::time::timeout(left, exchange(&mut conn, &request, was_reused))
                .await
                .unwrap_or(Err(Fail::Timeout));
            if let Some(done) = me.pool.settle(call, timeout, t.origin, conn, exchanged) {
                return done;
            }
        }
    }
}

impl Shared {
    /// A new connection (TLS handshake done), within the connect timeout and the attempt's
    /// deadline. Every error here means nothing was sent.
    async fn connect(&self, call: &Call, t: &Target<'_>, deadline: Instant) -> Result<Conn> {
        let fail = |u: Unconnected| unconnected(call, self.connect_timeout, u);
        let budget = ConnectBudget::new(self.connect_timeout, deadline);
        let left = || budget.left().map_err(fail);
        let addrs = self
            .resolver
            .lookup_async(t.host, t.port, left()?)
            .await
            .map_err(|e| fail(Unconnected::Resolve(e)))?;
        let mut tcp = Err(Unconnected::Slow);
        for addr in addrs {
            match tokio::time::timeout(left()?, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    tcp = Ok(s);
                    break;
                }
                Ok(Err(e)) => tcp = Err(Unconnected::Connect(e)),
                Err(_) => tcp = Err(Unconnected::Slow),
            }
        }
        let tcp = tcp.map_err(fail)?;
        // A failure to set this leaves the socket's default (only speed is lost).
        let _ = tcp.set_nodelay(true);
        if !t.https {
            return Ok(Conn::new(Io::Plain(tcp)));
        }
        let name = server_name(t.host)?;
        match tokio::time::timeout(left()?, self.tls.connect(name, tcp)).await {
            Ok(Ok(s)) => Ok(Conn::new(Io::Tls(Box::new(s)))),
            Ok(Err(e)) => Err(fail(Unconnected::Tls(e))),
            Err(_) => Err(fail(Unconnected::Slow)),
        }
    }
}

/// Sends `request` on `conn` and reads the reply: its status and text, and whether the
/// connection may be kept (the caller bounds it in time).
async fn exchange(
    conn: &mut Conn,
    request: &[u8],
    reused: bool,
) -> std::result::Result<(RawReply, bool), Fail> {
    if let Err(e) = conn.send(request).await {
        return Err(stale_if(reused, false, e.into()));
    }
    let mut reader = ReplyReader::reusing(std::mem::take(&mut conn.buf));
    loop {
        let n = match &mut conn.io {
            Io::Plain(s) => s.read(reader.spare()).await,
            Io::Tls(s) => s.read(reader.spare()).await,
        };
        if let Some(done) = reader.took(n, reused)? {
            conn.buf = reader.into_buffer();
            return Ok(done);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Method;
    use crate::error::Error;
    use crate::http1::tests::{config, ok, server, Step};
    use std::sync::atomic::Ordering;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn connections_are_kept_and_a_query_on_a_dropped_one_goes_again_money_never() {
        run(async {
            let http = Http::new(&config()).expect("http");
            let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n";
            let (url, accepted) =
                server(vec![ok(), Step::Reply(chunked.into()), Step::DropOnRequest]);
            let q = Call::bare(&url, Method::Get, true);
            for want in ["hi", "hello", "hi"] {
                let r = http.send(&q, Duration::from_secs(5)).await.expect("reply");
                assert_eq!((r.status, r.text.as_str()), (200, want));
            }
            // The third went again on a second connection, after the first was dropped.
            assert_eq!(accepted.load(Ordering::SeqCst), 2);
            let pay = Call::bare(&url, Method::Post("{}".into()), false);
            assert_eq!(
                http.send(&pay, Duration::from_secs(5))
                    .await
                    .expect("reply")
                    .text,
                "hello"
            );
            match http.send(&pay, Duration::from_secs(5)).await {
                Err(Error::Transport {
                    maybe_sent: true, ..
                }) => {}
                other => panic!("{other:?}"),
            }
            assert_eq!(accepted.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn failures_say_whether_the_request_may_have_been_sent() {
        run(async {
            let http = Http::new(&config()).expect("http");
            let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let url = format!("http://{}/gw", free.local_addr().expect("addr"));
            drop(free);
            let pay = Call::bare(&url, Method::Post("{}".into()), false);
            match http.send(&pay, Duration::from_secs(5)).await {
                Err(Error::Transport {
                    maybe_sent: false, ..
                }) => {}
                other => panic!("{other:?}"),
            }
            let (url, _) = server(vec![Step::Reply(String::new())]);
            let started = Instant::now();
            match http
                .send(
                    &Call::bare(&url, Method::Get, true),
                    Duration::from_millis(300),
                )
                .await
            {
                Err(Error::Timeout { after_ms: 300, .. }) => {}
                other => panic!("{other:?}"),
            }
            assert!(started.elapsed() >= Duration::from_millis(300));
            let (url, _) = server(vec![
                Step::Reply("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhi".into()),
                Step::Close,
            ]);
            match http
                .send(&Call::bare(&url, Method::Get, true), Duration::from_secs(5))
                .await
            {
                Err(Error::Transport {
                    maybe_sent: true, ..
                }) => {}
                other => panic!("{other:?}"),
            }
        });
    }
}
