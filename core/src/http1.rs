//! The clients' HTTP/1.1 transport, for a gateway reached directly or through an `http://`
//! proxy (`CONNECT`, [`Tunnel`]; ureq carries the blocking client's requests through an
//! `https://` proxy, `client::agent`). Driven here with `std::net` (the
//! blocking client), and by tokio in `transport_async` (the async client), which shares its
//! request bytes, reply reader, pool, error classes and TLS configuration.
//!
//! Why not ureq (or hyper) for this: the client sends one small request and reads one small
//! reply per call, and ureq's general machinery around that (a request builder and config per
//! call, URI parsing, a state machine per call, a probe of three system calls and two timeout
//! settings per reuse) cost about 6.5 µs of CPU per sequential query here, a seventh of the
//! client's whole CPU per query (`docs/BENCHMARKS.md`, "The clients' own HTTP/1.1 transport").
//!
//! What it does, and nothing more:
//! * `GET` or `POST` with `Content-Length`, head and body in one write; no `Expect`, no
//!   compression asked (a compressed reply is refused), no redirects followed;
//! * replies framed by `Content-Length`, `chunked`, or the connection's end, capped at
//!   [`MAX_REPLY_BYTES`]; 1xx interim replies skipped;
//! * TLS verified with rustls and the webpki roots or the configured CAs (TLS 1.2 and 1.3),
//!   the handshake completed when connecting, so that a refused certificate means nothing was
//!   sent;
//! * keep-alive: at most `max_idle_connections` idle connections per client (per process, see
//!   `per_process`), a connection idle over [`MAX_IDLE`] never reused, nor one idle over
//!   [`MONEY_MAX_IDLE`] for a request that moves money; an idle connection the server has
//!   closed (or that holds bytes nobody asked for) is dropped before use;
//! * timeouts: connecting (resolving, a proxy's tunnel and the TLS handshake included) within
//!   the configuration's connect timeout, and the whole attempt within the call's timeout:
//!   every read and write, rustls's included, is bounded by what is left of it (`Sock`), so a
//!   peer sending a byte now and then cannot stretch it; a kept connection's socket timeout is
//!   set again only when it is longer than what is left (`bound`).
//!
//! Per sequential request on a kept connection the blocking driver makes three system calls:
//! the probe of the idle connection (one non-blocking peek), the write, and the read.
//!
//! Errors keep the rule of both clients: a connection that could not be set up (name not
//! resolved, refused, connect timeout, TLS handshake refused) means nothing was sent
//! (`maybe_sent = false`); any later failure may have reached the gateway, and running out of
//! time after the request went out is [`Error::Timeout`]. A query (idempotent) whose reused
//! connection turns out closed before any byte of its reply is sent again once on a fresh
//! connection; a request that moves money never is.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::{
    Call, ClientConfig, Method, RawReply, MAX_IDLE, MAX_REPLY_BYTES, MONEY_MAX_IDLE,
};
use crate::error::{Error, Result};
use crate::resolve::CachingResolver;

const USER_AGENT: &str = concat!("sosopay/", env!("CARGO_PKG_VERSION"));

/// The largest reply head (status line and headers) read.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most headers a reply may have.
const MAX_HEADERS: usize = 64;

/// One client's transport (shared by its clones and threads).
pub(crate) struct Transport {
    tls: Arc<rustls::ClientConfig>,
    resolver: CachingResolver,
    connect_timeout: Duration,
    pool: Pool<Conn>,
    /// The HTTP proxy every connection goes through, by `CONNECT`, if one applies.
    tunnel: Option<Tunnel>,
}

/// An HTTP proxy (`http://[user:password@]host[:port]`, from the environment) that the
/// transport reaches the gateway through: each new connection asks it to `CONNECT` to the
/// gateway, within the connect timeout like the rest of setting up a connection (every byte of
/// its answer included), then speaks TLS (or plain HTTP) to the gateway through it.
#[derive(Clone)]
pub(crate) struct Tunnel {
    host: String,
    port: u16,
    /// `Proxy-Authorization`'s value (`Basic …`), when the proxy's URL has credentials. Never
    /// printed.
    authorization: Option<String>,
}

impl Tunnel {
    pub(crate) fn new(host: &str, port: u16, user: Option<&str>, password: Option<&str>) -> Tunnel {
        use base64::Engine as _;
        let authorization = (user.is_some() || password.is_some()).then(|| {
            let pair = format!("{}:{}", user.unwrap_or(""), password.unwrap_or(""));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Tunnel {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            authorization,
        }
    }

    /// Asks the proxy on `sock` for a tunnel to `t`'s host and port, and reads its answer: a
    /// 2xx opens it; anything else is [`Unconnected::Proxy`] (nothing was sent to the gateway).
    fn open(
        &self,
        sock: &mut Sock,
        t: &Target<'_>,
        budget: &ConnectBudget,
    ) -> std::result::Result<(), Unconnected> {
        let to = if t.host.contains(':') {
            format!("[{}]:{}", t.host, t.port)
        } else {
            format!("{}:{}", t.host, t.port)
        };
        let mut request = format!("CONNECT {to} HTTP/1.1\r\nHost: {to}\r\n");
        if let Some(a) = &self.authorization {
            request.push_str(&format!("Proxy-Authorization: {a}\r\n"));
        }
        request.push_str(concat!(
            "User-Agent: sosopay/",
            env!("CARGO_PKG_VERSION"),
            "\r\n\r\n"
        ));
        let request = request.into_bytes();
        let broken =
            |e: io::Error| Unconnected::Proxy(format!("the proxy's connection failed: {e}"));
        let mut sent = 0;
        while sent < request.len() {
            budget.left()?;
            match sock.write(&request[sent..]) {
                Ok(0) => return Err(Unconnected::Proxy("the proxy closed the connection".into())),
                Ok(n) => sent += n,
                Err(e) if again(&e) => {}
                Err(e) => return Err(broken(e)),
            }
        }
        // Its answer's head, read a byte at a time: nothing after it may be taken from the
        // tunnel (the gateway's TLS or HTTP bytes).
        let mut head = Vec::new();
        // A head ends with an empty line; a bare LF ends a line too (RFC 9112, 2.2).
        while !(head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n")) {
            if head.len() >= MAX_PROXY_HEAD {
                return Err(Unconnected::Proxy(format!(
                    "the proxy's answer to CONNECT has a head over {MAX_PROXY_HEAD} bytes"
                )));
            }
            budget.left()?;
            let mut byte = [0u8; 1];
            match sock.read(&mut byte) {
                Ok(0) => {
                    return Err(Unconnected::Proxy(
                        "the proxy closed the connection without answering CONNECT".into(),
                    ))
                }
                Ok(_) => head.push(byte[0]),
                Err(e) if again(&e) => {}
                Err(e) => return Err(broken(e)),
            }
        }
        let line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let line: String = String::from_utf8_lossy(line)
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        // `HTTP/1.x NNN[ reason]` and its headers, read as a reply's head is.
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut answer = httparse::Response::new(&mut headers);
        let status = match answer.parse(&head) {
            Ok(httparse::Status::Complete(_)) => answer.code,
            _ => None,
        };
        match status {
            Some(200..=299) => Ok(()),
            _ => Err(Unconnected::Proxy(format!(
                "the proxy refused to connect to the gateway: {line:?}"
            ))),
        }
    }
}

/// The longest head of a proxy's answer to `CONNECT` read.
const MAX_PROXY_HEAD: usize = 16 * 1024;

/// The idle connections of one client (of either driver), the most recently used last.
pub(crate) struct Pool<C> {
    max_idle: usize,
    idle: Mutex<Vec<Idle<C>>>,
}

struct Idle<C> {
    /// `scheme://authority` of the URL it was opened for.
    origin: String,
    conn: C,
    since: Instant,
}

impl<C> Pool<C> {
    /// A pool keeping at most `max_idle` connections (0: none).
    pub(crate) fn new(max_idle: usize) -> Pool<C> {
        Pool {
            max_idle,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The most recently used idle connection to `origin` that was idle at most `max_age` and
    /// is `usable` (one the server has closed is dropped, and the next one tried); connections
    /// idle past [`MAX_IDLE`] are dropped on the way.
    pub(crate) fn take(
        &self,
        origin: &str,
        max_age: Duration,
        usable: impl Fn(&C) -> bool,
    ) -> Option<C> {
        loop {
            let found = {
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                idle.retain(|i| i.since.elapsed() <= MAX_IDLE);
                let i = idle.iter().rposition(|i| i.origin == origin)?;
                if idle[i].since.elapsed() > max_age {
                    return None;
                }
                idle.remove(i)
            };
            if usable(&found.conn) {
                return Some(found.conn);
            }
        }
    }

    /// Keeps `conn` for the next request to `origin` (the oldest idle one goes if full).
    pub(crate) fn put(&self, origin: &str, conn: C) {
        if self.max_idle == 0 {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() >= self.max_idle {
            idle.remove(0);
        }
        idle.push(Idle {
            origin: origin.to_owned(),
            conn,
            since: Instant::now(),
        });
    }

    /// What an attempt makes of an exchange on `conn` (to `origin`): the reply, the connection
    /// kept for the next request when it may be; `None` to send once more on a new connection
    /// (a query whose reused connection the server had closed; a request that moves money
    /// never); or the client's error.
    pub(crate) fn settle(
        &self,
        call: &Call,
        timeout: Duration,
        origin: &str,
        conn: C,
        exchanged: std::result::Result<(RawReply, bool), Fail>,
    ) -> Option<Result<RawReply>> {
        match exchanged {
            Ok((reply, keep)) => {
                if keep {
                    self.put(origin, conn);
                }
                Some(Ok(reply))
            }
            Err(Fail::Stale) if call.idempotent => None,
            Err(f) => Some(Err(failure(call, timeout, f))),
        }
    }
}

/// A call's URL taken apart, and its request's bytes.
pub(crate) fn prepare(call: &Call) -> Result<(Target<'_>, Vec<u8>)> {
    let Some(t) = target(&call.url) else {
        return Err(Error::validation("base_url", "not a usable URL"));
    };
    let bytes = encode(call, &t);
    Ok((t, bytes))
}

/// How long a connection may have been idle to carry `call`.
pub(crate) fn max_age(call: &Call) -> Duration {
    if call.idempotent {
        MAX_IDLE
    } else {
        MONEY_MAX_IDLE
    }
}

/// A connection of the blocking driver, and the buffer its replies are read into (kept for its
/// next reply).
struct Conn {
    io: Io,
    buf: Vec<u8>,
}

enum Io {
    Plain(Sock),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Sock>>),
}

/// A TCP socket whose every read and write ends by `until`: each system call is bounded by the
/// time left (see [`bound`]) and none starts after it (`TimedOut`). rustls reads through it
/// too: its `complete_io` loops until a whole TLS record has come, so a per-call socket
/// timeout alone let a peer sending a byte now and then hold a handshake or a reply for as
/// long as it liked.
struct Sock {
    tcp: TcpStream,
    until: Option<Instant>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl Sock {
    fn new(tcp: TcpStream, until: Instant) -> Sock {
        Sock {
            tcp,
            until: Some(until),
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// The time left before `until`; `TimedOut` when none is.
    fn left(&self) -> io::Result<Option<Duration>> {
        let Some(until) = self.until else {
            return Ok(None);
        };
        let l = until.saturating_duration_since(Instant::now());
        if l.is_zero() {
            Err(io::Error::new(ErrorKind::TimedOut, "out of time"))
        } else {
            Ok(Some(l))
        }
    }
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(l) = self.left()? {
            let tcp = &self.tcp;
            bound(&mut self.read_timeout, l, |t| tcp.set_read_timeout(Some(t)))?;
        }
        self.tcp.read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(l) = self.left()? {
            let tcp = &self.tcp;
            bound(&mut self.write_timeout, l, |t| {
                tcp.set_write_timeout(Some(t))
            })?;
        }
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

impl Io {
    fn sock(&mut self) -> &mut Sock {
        match self {
            Io::Plain(s) => s,
            Io::Tls(s) => &mut s.sock,
        }
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(s) => &s.tcp,
            Io::Tls(s) => &s.sock.tcp,
        }
    }
}

impl Conn {
    fn new(io: Io) -> Conn {
        Conn {
            io,
            buf: Vec::new(),
        }
    }

    fn tcp(&self) -> &TcpStream {
        self.io.tcp()
    }

    /// Whether an idle connection can carry a request: nothing to read (the server has neither
    /// closed it nor sent anything unasked) and no error pending. One non-blocking peek.
    #[cfg(unix)]
    fn is_usable(&self) -> bool {
        let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        let flags = libc::MSG_PEEK | libc::MSG_DONTWAIT;
        let r = socket2::SockRef::from(self.tcp()).recv_with_flags(&mut probe, flags);
        matches!(r, Err(e) if e.kind() == ErrorKind::WouldBlock)
    }

    #[cfg(not(unix))]
    fn is_usable(&self) -> bool {
        let tcp = self.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let probe = tcp.peek(&mut [0u8; 1]);
        let restored = tcp.set_nonblocking(false).is_ok();
        restored && matches!(probe, Err(e) if e.kind() == ErrorKind::WouldBlock)
    }

    /// Every read and write from now on ends by `deadline` (the attempt's).
    fn until(&mut self, deadline: Instant) {
        self.io.sock().until = Some(deadline);
    }
}

/// Makes a socket timeout, last set to `set`, no longer than `left` (the time left of an
/// attempt), with a system call only when it is longer. The timeout set is `left` rounded down
/// to the millisecond, so that the next attempts, each starting with a little less than the
/// full timeout left, find it short enough as it is. A timeout shorter than what is left can
/// fire before the attempt's deadline: the driver then bounds again and goes on (`exchange`),
/// so it never ends an attempt early, and no read or write outlives the deadline.
fn bound(
    set: &mut Option<Duration>,
    left: Duration,
    apply: impl FnOnce(Duration) -> io::Result<()>,
) -> io::Result<()> {
    if matches!(*set, Some(t) if t <= left) {
        return Ok(());
    }
    let whole_ms = Duration::from_millis(u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
    let t = if whole_ms.is_zero() { left } else { whole_ms };
    apply(t)?;
    *set = Some(t);
    Ok(())
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => s.write(buf),
            Io::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.io {
            Io::Plain(s) => s.flush(),
            Io::Tls(s) => s.flush(),
        }
    }
}

/// A request's URL taken apart (`scheme://authority/path?query`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    pub(crate) https: bool,
    /// `scheme://authority`: the pool's key.
    pub(crate) origin: &'a str,
    /// As written in the URL (the `Host` header).
    pub(crate) authority: &'a str,
    /// The host without the brackets of an IPv6 literal.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// From the first `/` or `?` on (may be empty: the request then asks for `/`).
    pub(crate) path: &'a str,
}

pub(crate) fn target(url: &str) -> Option<Target<'_>> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else {
        (false, url.strip_prefix("http://")?)
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let origin = &url[..url.len() - rest.len() + end];
    // The port follows the last ':' outside an IPv6 literal's brackets.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            (&authority[..i], authority[i + 1..].parse::<u16>().ok()?)
        }
        _ => (authority, if https { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some(Target {
        https,
        origin,
        authority,
        host,
        port,
        path: &rest[end..],
    })
}

/// Why an exchange failed, before it is told apart into the client's errors.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The connection closed (or was reset) before any byte of the reply, on a reused
    /// connection: the server may have closed it as the request went out.
    Stale,
    /// The connection ended before any byte of the reply.
    Closed,
    Io(io::Error),
    Timeout,
    Protocol(String),
    TooLarge,
    NotUtf8,
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        match e.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock => Fail::Timeout,
            _ => Fail::Io(e),
        }
    }
}

impl Transport {
    pub(crate) fn new(config: &ClientConfig, tunnel: Option<Tunnel>) -> Result<Transport> {
        Ok(Transport {
            tls: crate::tls::client_config(config.ca_certificates.as_ref())?,
            resolver: CachingResolver::default(),
            connect_timeout: config.connect_timeout,
            pool: Pool::new(config.max_idle_connections),
            tunnel,
        })
    }

    /// One attempt: the reply's status and text.
    pub(crate) fn send(&self, call: &Call, timeout: Duration) -> Result<RawReply> {
        let deadline = Instant::now() + timeout;
        let (t, request) = prepare(call)?;
        let mut reused = self.pool.take(t.origin, max_age(call), Conn::is_usable);
        loop {
            let was_reused = reused.is_some();
            let mut conn = match reused.take() {
                Some(c) => c,
                None => self.connect(call, &t, deadline)?,
            };
            let exchanged = exchange(&mut conn, &request, deadline, was_reused);
            if let Some(done) = self.pool.settle(call, timeout, t.origin, conn, exchanged) {
                return done;
            }
        }
    }

    /// A new connection to `t` (TLS handshake done), within the connect timeout and the
    /// attempt's deadline. Every error here means nothing was sent.
    fn connect(&self, call: &Call, t: &Target<'_>, deadline: Instant) -> Result<Conn> {
        let fail = |u: Unconnected| unconnected(call, self.connect_timeout, u);
        let budget = ConnectBudget::new(self.connect_timeout, deadline);
        let left = || budget.left().map_err(fail);
        let (host, port) = match &self.tunnel {
            Some(p) => (p.host.as_str(), p.port),
            None => (t.host, t.port),
        };
        let proxy = |what: &str, e: io::Error| match self.tunnel {
            // Out of time stays "out of time"; another failure names the proxy, not the gateway.
            Some(_) if !matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                Unconnected::Proxy(format!("{what} the proxy {host}:{port}: {e}"))
            }
            _ if what.starts_with("could not resolve") => Unconnected::Resolve(e),
            _ => Unconnected::Connect(e),
        };
        let addrs = self
            .resolver
            .lookup(host, port, left()?)
            .map_err(|e| fail(proxy("could not resolve", e)))?;
        let mut tcp = Err(Unconnected::Slow);
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, left()?) {
                Ok(s) => {
                    tcp = Ok(s);
                    break;
                }
                Err(e) => tcp = Err(proxy("could not connect to", e)),
            }
        }
        let tcp = tcp.map_err(fail)?;
        // A failure to set this leaves the socket's default (only speed is lost).
        let _ = tcp.set_nodelay(true);
        let mut sock = Sock::new(tcp, budget.until);
        if let Some(p) = &self.tunnel {
            p.open(&mut sock, t, &budget).map_err(fail)?;
        }
        if !t.https {
            return Ok(Conn::new(Io::Plain(sock)));
        }
        let tls = rustls::ClientConnection::new(self.tls.clone(), server_name(t.host)?)
            .map_err(|e| Error::crypto(format!("TLS set-up: {e}")))?;
        let mut stream = rustls::StreamOwned::new(tls, sock);
        // Every read and write of the handshake ends by the budget's end (`Sock`), however
        // slowly the peer sends.
        while stream.conn.is_handshaking() {
            left()?;
            match stream.conn.complete_io(&mut stream.sock) {
                Ok(_) => {}
                // A socket timeout under a millisecond early: the budget says when time is up.
                Err(e) if again(&e) && budget.left().is_ok() => {}
                Err(e) => return Err(fail(Unconnected::Tls(e))),
            }
        }
        Ok(Conn::new(Io::Tls(Box::new(stream))))
    }
}

/// The time a connection may take to set up (resolving, connecting, the TLS handshake): the
/// connect timeout, cut to the attempt's deadline.
pub(crate) struct ConnectBudget {
    pub(crate) until: Instant,
}

impl ConnectBudget {
    pub(crate) fn new(connect_timeout: Duration, deadline: Instant) -> ConnectBudget {
        ConnectBudget {
            until: deadline.min(Instant::now() + connect_timeout),
        }
    }

    /// What is left of it ([`Unconnected::Slow`] when nothing is).
    pub(crate) fn left(&self) -> std::result::Result<Duration, Unconnected> {
        let l = self.until.saturating_duration_since(Instant::now());
        if l.is_zero() {
            Err(Unconnected::Slow)
        } else {
            Ok(l)
        }
    }
}

/// Why a connection could not be set up: nothing of the request was sent.
pub(crate) enum Unconnected {
    Resolve(io::Error),
    /// Out of time (the connect timeout, or the attempt's).
    Slow,
    Connect(io::Error),
    Tls(io::Error),
    /// The proxy did not open a tunnel to the gateway (its answer, or why it did not come).
    Proxy(String),
}

/// The client's error for a connection that could not be set up (`maybe_sent` false).
pub(crate) fn unconnected(call: &Call, connect_timeout: Duration, u: Unconnected) -> Error {
    let timed_out = |e: &io::Error| matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock);
    let reason = match u {
        Unconnected::Slow => None,
        Unconnected::Resolve(e) | Unconnected::Connect(e) | Unconnected::Tls(e)
            if timed_out(&e) =>
        {
            None
        }
        Unconnected::Resolve(_) => Some("the gateway's host name could not be resolved".to_owned()),
        Unconnected::Proxy(why) => Some(why),
        Unconnected::Connect(e) => Some(format!("could not connect to the gateway: {e}")),
        Unconnected::Tls(e) => Some(match crate::tls::rustls_error(&e) {
            Some(tls) => format!("TLS error: {tls}{}", crate::tls::refusal_hint(tls)),
            None => format!("TLS handshake failed: {e}"),
        }),
    };
    Error::Transport {
        operation: call.operation.to_owned(),
        reason: reason.unwrap_or_else(|| {
            format!(
                "could not connect within the time allowed ({} ms)",
                connect_timeout.as_millis()
            )
        }),
        maybe_sent: false,
    }
}

/// The TLS server name of a URL's host.
pub(crate) fn server_name(host: &str) -> Result<rustls::pki_types::ServerName<'static>> {
    rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| Error::validation("base_url", format!("not a usable TLS server name: {e}")))
}

/// The request's bytes: head and body.
pub(crate) fn encode(call: &Call, t: &Target<'_>) -> Vec<u8> {
    let (method, content_type, body) = match &call.method {
        Method::Get => ("GET", "text/xml;charset=UTF-8", ""),
        Method::Post(b) => ("POST", "application/json;charset=UTF-8", b.as_str()),
    };
    let mut out = Vec::with_capacity(160 + t.path.len() + t.authority.len() + body.len());
    let slash = if t.path.starts_with('/') { "" } else { "/" };
    let _ = write!(
        out,
        "{method} {slash}{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {USER_AGENT}\r\nContent-Type: {content_type}\r\n",
        t.path, t.authority
    );
    if let Method::Post(_) = call.method {
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// How a reply's body is delimited.
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// A parsed reply head.
#[derive(Debug)]
struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    /// The connection may carry another request after this reply.
    keep_alive: bool,
}

/// The reply head at the start of `buf`, or `None` when more bytes are needed.
fn parse_head(buf: &[u8]) -> std::result::Result<Option<Head>, Fail> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            return Err(Fail::Protocol(format!(
                "the reply's head is over {MAX_HEAD_BYTES} bytes"
            )))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Fail::Protocol(format!("unreadable reply head: {e}"))),
    };
    let status = resp.code.unwrap_or(0);
    let mut keep_alive = resp.version == Some(1);
    let mut length: Option<usize> = None;
    let mut chunked = false;
    for h in resp.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<usize>()
                .map_err(|_| Fail::Protocol(format!("Content-Length {value:?}")))?;
            if length.is_some_and(|m| m != n) {
                return Err(Fail::Protocol(
                    "two different Content-Length headers".into(),
                ));
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or("").trim();
            if !last.eq_ignore_ascii_case("chunked") {
                return Err(Fail::Protocol(format!(
                    "Transfer-Encoding {value:?} (not asked for)"
                )));
            }
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") && resp.version == Some(0) {
                    keep_alive = true;
                }
            }
        } else if h.name.eq_ignore_ascii_case("content-encoding")
            && !value.eq_ignore_ascii_case("identity")
            && !value.is_empty()
        {
            return Err(Fail::Protocol(format!(
                "Content-Encoding {value:?} (not asked for)"
            )));
        }
    }
    if status == 101 {
        keep_alive = false;
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        // A length beside chunked is ignored (RFC 9112 §6.3), but the connection is not reused.
        if length.is_some() {
            keep_alive = false;
        }
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive,
    }))
}

/// A chunked body decoded as it arrives.
#[derive(Default)]
struct Chunks {
    /// Where the next chunk-size line starts in the body's bytes.
    at: usize,
    out: Vec<u8>,
}

impl Chunks {
    /// Decodes what `raw` (the body's bytes so far) completes; `Some(end)` once the last chunk
    /// and trailers are in (`end`: bytes of `raw` used).
    fn advance(&mut self, raw: &[u8]) -> std::result::Result<Option<usize>, Fail> {
        loop {
            let rest = &raw[self.at..];
            let Some(eol) = find_crlf(rest) else {
                if rest.len() > 1024 {
                    return Err(Fail::Protocol("a chunk-size line over 1 KiB".into()));
                }
                return Ok(None);
            };
            let line = std::str::from_utf8(&rest[..eol]).unwrap_or("");
            let hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| Fail::Protocol(format!("chunk size {hex:?}")))?;
            let data = self.at + eol + 2;
            if size == 0 {
                // Trailers (ignored), then an empty line.
                let mut at = data;
                loop {
                    let Some(e) = find_crlf(&raw[at..]) else {
                        return Ok(None);
                    };
                    at += e + 2;
                    if e == 0 {
                        return Ok(Some(at));
                    }
                }
            }
            if size as u64 > MAX_REPLY_BYTES + 1
                || self.out.len() + size > MAX_REPLY_BYTES as usize + 1
            {
                return Err(Fail::TooLarge);
            }
            if raw.len() < data + size + 2 {
                return Ok(None);
            }
            if &raw[data + size..data + size + 2] != b"\r\n" {
                return Err(Fail::Protocol("a chunk not followed by CRLF".into()));
            }
            self.out.extend_from_slice(&raw[data..data + size]);
            self.at = data + size + 2;
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

/// One reply read as its bytes arrive, whatever does the reading (the blocking driver below,
/// the async one in `transport_async`): [`ReplyReader::spare`] gives room to read into,
/// [`ReplyReader::filled`] takes what was read and says when the reply is complete
/// ([`ReplyReader::took`]: the same from a read's result, with a stale connection told apart).
pub(crate) struct ReplyReader {
    /// Every byte initialised: the reply's bytes so far, then room being read into.
    buf: Vec<u8>,
    /// Bytes of `buf` holding data.
    len: usize,
    head: Option<Head>,
    chunks: Chunks,
    /// Any byte of the reply came (a failure before that may be a connection the server
    /// closed as the request went out).
    got_any: bool,
}

/// The largest reply buffer a connection keeps for its next reply.
const KEPT_BUFFER_BYTES: usize = 64 * 1024;

impl ReplyReader {
    #[cfg(test)]
    pub(crate) fn new() -> ReplyReader {
        ReplyReader::reusing(Vec::new())
    }

    /// A reader filling `buf` (a previous reply's, [`ReplyReader::into_buffer`]) from its start.
    pub(crate) fn reusing(buf: Vec<u8>) -> ReplyReader {
        ReplyReader {
            buf,
            len: 0,
            head: None,
            chunks: Chunks::default(),
            got_any: false,
        }
    }

    /// The buffer, for the connection's next reply (none if it grew large).
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        if self.buf.len() > KEPT_BUFFER_BYTES {
            Vec::new()
        } else {
            self.buf
        }
    }

    /// Room for the next read (at least 4 KiB).
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        if self.buf.len() - self.len < 4096 {
            let grown = (self.buf.len() * 2).max(8 * 1024).max(self.len + 4096);
            self.buf.resize(grown, 0);
        }
        &mut self.buf[self.len..]
    }

    /// Takes what a read of [`ReplyReader::spare`] gave (`n` bytes, 0 at the connection's end,
    /// or an error): the reply and whether the connection may be kept, once complete. A
    /// failure before any byte of the reply, on a `reused` connection, is [`Fail::Stale`].
    pub(crate) fn took(
        &mut self,
        n: io::Result<usize>,
        reused: bool,
    ) -> std::result::Result<Option<(RawReply, bool)>, Fail> {
        n.map_err(Fail::from)
            .and_then(|n| self.filled(n))
            .map_err(|f| stale_if(reused, self.got_any, f))
    }

    /// Takes `n` bytes read into [`ReplyReader::spare`] (0: the connection's end): the reply
    /// and whether the connection may be kept, once complete.
    pub(crate) fn filled(
        &mut self,
        n: usize,
    ) -> std::result::Result<Option<(RawReply, bool)>, Fail> {
        self.len += n;
        let end = n == 0;
        if !end {
            self.got_any = true;
        }
        // The head, skipping 1xx interim replies.
        while self.head.is_none() {
            match parse_head(&self.buf[..self.len])? {
                Some(h) if (100..200).contains(&h.status) && h.status != 101 => {
                    self.buf.copy_within(h.len..self.len, 0);
                    self.len -= h.len;
                }
                Some(h) => self.head = Some(h),
                None if end && !self.got_any => return Err(Fail::Closed),
                None if end => {
                    return Err(Fail::Protocol(
                        "the connection closed within the reply's head".into(),
                    ))
                }
                None => return Ok(None),
            }
        }
        let Some(head) = &self.head else {
            return Ok(None);
        };
        let body = &self.buf[head.len..self.len];
        let (done, keep) = match head.framing {
            Framing::Length(n) if n as u64 > MAX_REPLY_BYTES => return Err(Fail::TooLarge),
            Framing::Length(n) if body.len() >= n => {
                // Bytes after the reply that nobody asked for: the connection is not reused.
                (Some(body[..n].to_vec()), body.len() == n)
            }
            Framing::Length(_) => (None, false),
            Framing::Chunked => match self.chunks.advance(body)? {
                Some(used) => (
                    Some(std::mem::take(&mut self.chunks.out)),
                    body.len() == used,
                ),
                None => (None, false),
            },
            Framing::UntilClose if body.len() as u64 > MAX_REPLY_BYTES => {
                return Err(Fail::TooLarge)
            }
            Framing::UntilClose if end => (Some(body.to_vec()), false),
            Framing::UntilClose => (None, false),
        };
        match done {
            Some(body) => {
                if body.len() as u64 > MAX_REPLY_BYTES {
                    return Err(Fail::TooLarge);
                }
                let text = String::from_utf8(body).map_err(|_| Fail::NotUtf8)?;
                let reply = RawReply {
                    status: head.status,
                    text,
                };
                Ok(Some((reply, keep && head.keep_alive)))
            }
            None if end => Err(Fail::Protocol(
                "the connection closed within the reply".into(),
            )),
            None => Ok(None),
        }
    }
}

/// A failure of a request sent on a reused connection that ended (closed, reset) before any
/// byte of its reply is [`Fail::Stale`]: the server may have closed it as the request went out.
pub(crate) fn stale_if(reused: bool, got_any: bool, f: Fail) -> Fail {
    let closed = match &f {
        Fail::Closed => true,
        Fail::Io(e) => matches!(
            e.kind(),
            ErrorKind::BrokenPipe
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::UnexpectedEof
        ),
        _ => false,
    };
    if reused && !got_any && closed {
        Fail::Stale
    } else {
        f
    }
}

/// An error after which a read or write goes on if time is left: a socket timeout (which may
/// fire before the deadline, see [`bound`]) or an interrupted call.
fn again(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
    )
}

/// Sends `request` on `conn` and reads the reply within `deadline`: its status and text, and
/// whether the connection may be kept.
fn exchange(
    conn: &mut Conn,
    request: &[u8],
    deadline: Instant,
    reused: bool,
) -> std::result::Result<(RawReply, bool), Fail> {
    let left = || {
        let l = deadline.saturating_duration_since(Instant::now());
        if l.is_zero() {
            Err(Fail::Timeout)
        } else {
            Ok(l)
        }
    };
    // A socket timeout may fire before the deadline (`bound`): the loops go on until `left`
    // says the time is up.
    conn.until(deadline);
    let mut sent = 0;
    while sent < request.len() {
        left()?;
        match conn.write(&request[sent..]) {
            Ok(0) => return Err(stale_if(reused, false, Fail::Closed)),
            Ok(n) => sent += n,
            Err(e) if again(&e) => {}
            Err(e) => return Err(stale_if(reused, false, e.into())),
        }
    }
    loop {
        left()?;
        match conn.flush() {
            Ok(()) => break,
            Err(e) if again(&e) => {}
            Err(e) => return Err(stale_if(reused, false, e.into())),
        }
    }
    let mut reader = ReplyReader::reusing(std::mem::take(&mut conn.buf));
    loop {
        left()?;
        let n = match conn.read(reader.spare()) {
            Err(e) if again(&e) => continue,
            n => n,
        };
        if let Some(done) = reader.took(n, reused)? {
            conn.buf = reader.into_buffer();
            return Ok(done);
        }
    }
}

/// The client's error for a failed exchange (the request may have been sent).
pub(crate) fn failure(call: &Call, timeout: Duration, f: Fail) -> Error {
    let transport = |reason: String| Error::Transport {
        operation: call.operation.to_owned(),
        reason,
        maybe_sent: true,
    };
    match f {
        Fail::Timeout => Error::Timeout {
            operation: call.operation.to_owned(),
            after_ms: timeout.as_millis() as u64,
        },
        Fail::TooLarge => {
            Error::decode(format!("the reply is larger than {MAX_REPLY_BYTES} bytes"))
        }
        Fail::NotUtf8 => Error::decode("the reply is not UTF-8"),
        Fail::Protocol(p) => transport(format!("the gateway's reply broke the HTTP protocol: {p}")),
        Fail::Stale | Fail::Closed => {
            transport("connection error: the connection closed before the reply".into())
        }
        Fail::Io(e) => match crate::tls::rustls_error(&e) {
            Some(tls) => {
                let hint = crate::tls::refusal_hint(tls);
                transport(format!("TLS error: {tls}{hint}"))
            }
            None => transport(format!("connection error: {e}")),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn urls_are_taken_apart() {
        let t = target("http://127.0.0.1:8080/openGateway/x?a=1").expect("url");
        assert_eq!(
            t,
            Target {
                https: false,
                origin: "http://127.0.0.1:8080",
                authority: "127.0.0.1:8080",
                host: "127.0.0.1",
                port: 8080,
                path: "/openGateway/x?a=1",
            }
        );
        let t = target("https://gw.example.cn?x").expect("url");
        assert_eq!(
            (t.host, t.port, t.path, t.origin),
            ("gw.example.cn", 443, "?x", "https://gw.example.cn")
        );
        let t = target("http://[::1]:9000").expect("url");
        assert_eq!(
            (t.host, t.port, t.path, t.authority),
            ("::1", 9000, "", "[::1]:9000")
        );
        let t = target("https://[2001:db8::1]/p").expect("url");
        assert_eq!((t.host, t.port), ("2001:db8::1", 443));
        for bad in ["ftp://x/", "http://:80/", "http://h:99999/", "http://h:x/"] {
            assert!(target(bad).is_none(), "{bad}");
        }
        let get = Call::bare("http://h:1", Method::Get, true);
        let head = encode(&get, &target(&get.url).expect("url"));
        assert!(
            head.starts_with(b"GET / HTTP/1.1\r\nHost: h:1\r\n"),
            "{head:?}"
        );
        let post = Call::bare("http://h/p", Method::Post("{}".into()), false);
        let req = String::from_utf8(encode(&post, &target(&post.url).expect("url"))).expect("utf8");
        assert!(req.starts_with("POST /p HTTP/1.1\r\nHost: h\r\n"), "{req}");
        assert!(req.ends_with("Content-Length: 2\r\n\r\n{}"), "{req}");
    }

    fn head(text: &str) -> std::result::Result<Option<Head>, Fail> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn reply_heads_say_how_the_body_ends_and_whether_to_keep_the_connection() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
            .expect("ok")
            .expect("complete");
        assert_eq!(
            (h.status, h.framing, h.keep_alive),
            (200, Framing::Length(12), true)
        );
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
        assert!(matches!(
            h,
            Ok(Some(Head {
                framing: Framing::Chunked,
                keep_alive: true,
                ..
            }))
        ));
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: Close\r\n\r\n");
        assert!(matches!(
            h,
            Ok(Some(Head {
                keep_alive: false,
                ..
            }))
        ));
        let h = head("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n");
        assert!(matches!(
            h,
            Ok(Some(Head {
                keep_alive: false,
                ..
            }))
        ));
        let h = head("HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n");
        assert!(matches!(
            h,
            Ok(Some(Head {
                keep_alive: true,
                ..
            }))
        ));
        let h = head("HTTP/1.1 200 OK\r\n\r\n");
        assert!(matches!(
            h,
            Ok(Some(Head {
                framing: Framing::UntilClose,
                keep_alive: false,
                ..
            }))
        ));
        let h = head("HTTP/1.1 204 No Content\r\n\r\n");
        assert!(matches!(
            h,
            Ok(Some(Head {
                framing: Framing::Length(0),
                ..
            }))
        ));
        assert!(matches!(head("HTTP/1.1 200 OK\r\nContent-Len"), Ok(None)));
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/9 200 OK\r\n\r\n",
        ] {
            assert!(matches!(head(bad), Err(Fail::Protocol(_))), "{bad}");
        }
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}", "a".repeat(MAX_HEAD_BYTES + 1));
        assert!(matches!(head(&huge), Err(Fail::Protocol(_))));
    }

    #[test]
    fn chunked_bodies_are_decoded_as_they_arrive() {
        let raw = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        let mut c = Chunks::default();
        for cut in 0..raw.len() - 4 {
            let mut partial = Chunks::default();
            assert!(
                matches!(partial.advance(&raw[..cut]), Ok(None)),
                "cut at {cut}"
            );
        }
        assert_eq!(c.advance(raw).ok().flatten(), Some(raw.len() - 4));
        assert_eq!(c.out, b"Wikipedia");
        let mut c = Chunks::default();
        assert_eq!(c.advance(b"0\r\n\r\n").ok().flatten(), Some(5));
        assert!(c.out.is_empty());
        assert!(matches!(
            Chunks::default().advance(b"zz\r\n"),
            Err(Fail::Protocol(_))
        ));
        assert!(matches!(
            Chunks::default().advance(b"2\r\nabXY0\r\n\r\n"),
            Err(Fail::Protocol(_))
        ));
        assert!(matches!(
            Chunks::default().advance(b"ffffffff\r\n"),
            Err(Fail::TooLarge)
        ));
    }

    #[derive(Clone)]
    pub(crate) enum Step {
        /// Read a request, write this.
        Reply(String),
        /// Read a request, wait this long, write this.
        Late(Duration, String),
        /// Read a request, close the connection without answering.
        DropOnRequest,
        /// Close the connection.
        Close,
    }
    use Step::*;

    pub(crate) fn ok() -> Step {
        Reply(OK.into())
    }

    /// A server on 127.0.0.1 that takes each connection through `script`, then holds it open
    /// without answering until the client closes it; counts connections.
    pub(crate) fn server(script: Vec<Step>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/gw", listener.local_addr().expect("addr"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                let script = script.clone();
                std::thread::spawn(move || {
                    for step in script {
                        if let Close = step {
                            return;
                        }
                        let mut buf = [0u8; 4096];
                        match s.read(&mut buf) {
                            Ok(n) if n > 0 => {}
                            _ => return,
                        }
                        match step {
                            Reply(r) if s.write_all(r.as_bytes()).is_ok() => {}
                            Late(wait, r) => {
                                std::thread::sleep(wait);
                                if s.write_all(r.as_bytes()).is_err() {
                                    return;
                                }
                            }
                            _ => return,
                        }
                    }
                    let _ = s.read_to_end(&mut Vec::new());
                });
            }
        });
        (url, accepted)
    }

    pub(crate) fn config() -> ClientConfig {
        ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            "http://127.0.0.1:1/",
        )
        .expect("config")
    }

    fn transport() -> Transport {
        Transport::new(&config(), None).expect("transport")
    }

    pub(crate) const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

    #[test]
    fn a_connection_is_kept_and_reused() {
        let chunked =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n";
        let interim = format!("HTTP/1.1 100 Continue\r\n\r\n{OK}");
        let (url, accepted) = server(vec![ok(), Reply(chunked.into()), Reply(interim)]);
        let t = transport();
        let q = Call::bare(&url, Method::Get, true);
        for want in ["hi", "hello", "hi"] {
            let r = t.send(&q, Duration::from_secs(5)).expect("reply");
            assert_eq!((r.status, r.text.as_str()), (200, want));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn connection_close_is_honoured() {
        let close = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi";
        let (url, accepted) = server(vec![Reply(close.into()), Reply(close.into())]);
        let t = transport();
        let q = Call::bare(&url, Method::Get, true);
        for _ in 0..2 {
            assert_eq!(
                t.send(&q, Duration::from_secs(5)).expect("reply").text,
                "hi"
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // A reply ending with the connection.
        let (url, _) = server(vec![Reply("HTTP/1.1 503 Busy\r\n\r\nlater".into()), Close]);
        let r = t
            .send(&Call::bare(&url, Method::Get, true), Duration::from_secs(5))
            .expect("reply");
        assert_eq!((r.status, r.text.as_str()), (503, "later"));
    }

    #[test]
    fn a_query_on_a_connection_the_server_dropped_goes_again_on_a_new_one_money_never() {
        // Each connection answers one request, then closes when the next one arrives (a server
        // closing an idle connection as a request goes out): unseen by the idle check.
        let (url, accepted) = server(vec![ok(), DropOnRequest]);
        let t = transport();
        let q = Call::bare(&url, Method::Get, true);
        for _ in 0..3 {
            assert_eq!(
                t.send(&q, Duration::from_secs(5)).expect("reply").text,
                "hi"
            );
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        let pay = Call::bare(&url, Method::Post("{}".into()), false);
        match t.send(&pay, Duration::from_secs(5)) {
            Err(Error::Transport {
                maybe_sent: true, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        // The next one takes a new connection.
        assert_eq!(
            t.send(&pay, Duration::from_secs(5)).expect("reply").text,
            "hi"
        );
    }

    #[test]
    fn a_kept_buffer_holds_nothing_of_the_last_reply() {
        // Room left over from a longer reply, full of its bytes.
        let mut r = ReplyReader::reusing(b"HTTP/1.1 500 Oops\r\n".repeat(600));
        let raw = OK.as_bytes();
        r.spare()[..raw.len()].copy_from_slice(raw);
        let (reply, keep) = r.filled(raw.len()).expect("reply").expect("complete");
        assert_eq!((reply.status, reply.text.as_str(), keep), (200, "hi", true));
        // Over a kept connection: a long reply, then a short one.
        let t = transport();
        let long = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{}",
            "z".repeat(5000)
        );
        let (url, accepted) = server(vec![Reply(long), ok()]);
        let call = Call::bare(&url, Method::Get, true);
        assert_eq!(
            t.send(&call, Duration::from_secs(5))
                .expect("long")
                .text
                .len(),
            5000
        );
        assert_eq!(
            t.send(&call, Duration::from_secs(5)).expect("short").text,
            "hi"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn socket_timeouts_are_set_only_when_longer_than_the_time_left() {
        let mut set = None;
        let mut applied = Vec::new();
        let mut apply = |left: Duration, set: &mut Option<Duration>| {
            bound(set, left, |t| {
                applied.push(t);
                Ok(())
            })
            .expect("bound");
        };
        // Rounded down to the millisecond, so that a little less left next time needs no call.
        apply(Duration::from_micros(2_999_990), &mut set);
        apply(Duration::from_micros(2_999_500), &mut set);
        apply(Duration::from_millis(2_000), &mut set);
        // Under a millisecond: exactly what is left.
        apply(Duration::from_micros(700), &mut set);
        apply(Duration::from_micros(800), &mut set);
        assert_eq!(
            applied,
            [
                Duration::from_millis(2_999),
                Duration::from_millis(2_000),
                Duration::from_micros(700)
            ]
        );
        assert_eq!(set, Some(Duration::from_micros(700)));
    }

    #[test]
    fn a_kept_connections_short_socket_timeout_never_cuts_a_longer_attempt_short() {
        let t = transport();
        // The first call leaves the connection's read timeout under 100 ms; the second, with
        // 5 s to spare, waits 400 ms for its reply on the same connection.
        let (url, accepted) = server(vec![ok(), Late(Duration::from_millis(400), OK.into())]);
        let call = Call::bare(&url, Method::Get, true);
        t.send(&call, Duration::from_millis(100)).expect("first");
        let started = Instant::now();
        let reply = t.send(&call, Duration::from_secs(5)).expect("second");
        assert_eq!(reply.text, "hi");
        assert!(started.elapsed() >= Duration::from_millis(400));
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_kept_connections_long_socket_timeout_never_stretches_a_shorter_attempt() {
        let t = transport();
        // The first call leaves the connection's timeouts near 5 s; the second has 300 ms and
        // no reply comes.
        let (url, accepted) = server(vec![ok(), Reply(String::new())]);
        let call = Call::bare(&url, Method::Get, true);
        t.send(&call, Duration::from_secs(5)).expect("first");
        let started = Instant::now();
        match t.send(&call, Duration::from_millis(300)) {
            Err(Error::Timeout { after_ms: 300, .. }) => {}
            other => panic!("{other:?}"),
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        assert!(took < Duration::from_millis(2_000), "{took:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn failures_say_whether_the_request_may_have_been_sent() {
        let t = transport();
        // Nothing listens: refused, not sent.
        let free = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/gw", free.local_addr().expect("addr"));
        drop(free);
        match t.send(
            &Call::bare(&url, Method::Post("{}".into()), false),
            Duration::from_secs(5),
        ) {
            Err(Error::Transport {
                maybe_sent: false, ..
            }) => {}
            other => panic!("{other:?}"),
        }
        // A server that reads the request and never answers: a timeout, after the time given.
        let (url, _) = server(vec![Reply(String::new())]);
        let started = Instant::now();
        match t.send(
            &Call::bare(&url, Method::Get, true),
            Duration::from_millis(300),
        ) {
            Err(Error::Timeout { after_ms: 300, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() >= Duration::from_millis(300));
        // Garbage instead of HTTP.
        let (url, _) = server(vec![Reply("SSH-2.0-OpenSSH\r\n\r\n".into())]);
        match t.send(&Call::bare(&url, Method::Get, true), Duration::from_secs(5)) {
            Err(Error::Transport {
                maybe_sent: true,
                reason,
                ..
            }) => {
                assert!(reason.contains("HTTP protocol"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        // Over the size limit, by its length.
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_REPLY_BYTES + 1
        );
        let (url, _) = server(vec![Reply(big)]);
        match t.send(&Call::bare(&url, Method::Get, true), Duration::from_secs(5)) {
            Err(Error::Decode { reason, .. }) => assert!(reason.contains("larger"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // Cut short within the body.
        let (url, _) = server(vec![
            Reply("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhi".into()),
            Close,
        ]);
        match t.send(&Call::bare(&url, Method::Get, true), Duration::from_secs(5)) {
            Err(Error::Transport {
                maybe_sent: true, ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn idle_connections_the_server_closed_are_skipped() {
        // Each connection is closed by the server right after its one reply.
        let (url, accepted) = server(vec![ok(), Close]);
        let t = transport();
        let q = Call::bare(&url, Method::Get, true);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| t.send(&q, Duration::from_secs(5)).expect("reply"));
            }
        });
        let opened = accepted.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        // Every idle one is found closed: a new connection, no error.
        let pay = Call::bare(&url, Method::Post("{}".into()), false);
        assert_eq!(
            t.send(&pay, Duration::from_secs(5)).expect("reply").text,
            "hi"
        );
        assert_eq!(accepted.load(Ordering::SeqCst), opened + 1);
        assert!(t.pool.idle.lock().expect("lock").len() <= 1);
    }

    #[test]
    fn money_takes_no_connection_idle_for_over_two_seconds_and_nothing_over_max_idle() {
        let (url, accepted) = server(vec![ok(); 4]);
        let t = transport();
        let q = Call::bare(&url, Method::Get, true);
        t.send(&q, Duration::from_secs(5)).expect("reply");
        // Pretend the connection has been idle 3 s.
        if let Some(i) = t.pool.idle.lock().expect("lock").last_mut() {
            i.since -= Duration::from_secs(3);
        }
        let pay = Call::bare(&url, Method::Post("{}".into()), false);
        t.send(&pay, Duration::from_secs(5)).expect("reply");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        // The older connection is still good for a query.
        t.send(&q, Duration::from_secs(5)).expect("reply");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        for i in t.pool.idle.lock().expect("lock").iter_mut() {
            i.since -= MAX_IDLE + Duration::from_secs(1);
        }
        t.send(&q, Duration::from_secs(5)).expect("reply");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
        assert_eq!(t.pool.idle.lock().expect("lock").len(), 1);
    }
}

#[cfg(test)]
mod reader_properties {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `bytes` to a reader in pieces cut at `cuts`, then the connection's end.
    fn read(
        bytes: &[u8],
        cuts: &[usize],
    ) -> std::result::Result<Option<(u16, String, bool)>, String> {
        let mut reader = ReplyReader::new();
        let mut at = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        ends.sort_unstable();
        ends.push(bytes.len());
        for end in ends {
            if end <= at {
                continue;
            }
            let piece = &bytes[at..end];
            let room = reader.spare();
            let n = piece.len().min(room.len());
            room[..n].copy_from_slice(&piece[..n]);
            at += n;
            match reader.filled(n) {
                Ok(Some((r, keep))) => return Ok(Some((r.status, r.text, keep))),
                Ok(None) => {}
                Err(f) => return Err(format!("{f:?}")),
            }
        }
        match reader.filled(0) {
            Ok(Some((r, keep))) => Ok(Some((r.status, r.text, keep))),
            Ok(None) => Ok(None),
            Err(f) => Err(format!("{f:?}")),
        }
    }

    fn chunked(body: &str, sizes: &[usize]) -> String {
        let mut out = String::new();
        let mut rest = body;
        for s in sizes.iter().chain(std::iter::repeat(&7)) {
            if rest.is_empty() {
                break;
            }
            let n = (*s % 9 + 1).min(rest.len());
            let n = (n..=rest.len())
                .find(|&i| rest.is_char_boundary(i))
                .unwrap_or(rest.len());
            out.push_str(&format!("{n:x}\r\n{}\r\n", &rest[..n]));
            rest = &rest[n..];
        }
        out + "0\r\n\r\n"
    }

    proptest! {
        /// Hostile bytes never panic the reader, whatever the pieces they come in.
        #[test]
        fn any_bytes_in_any_pieces_are_an_answer_or_an_error(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let _ = read(&bytes, &cuts);
            let mut with_head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            with_head.extend_from_slice(&bytes);
            let _ = read(&with_head, &cuts);
        }

        /// A reply reads the same whole or in pieces, by length, chunked or until the end.
        #[test]
        fn a_reply_reads_the_same_in_any_pieces(
            body in "[a-z0-9{}:,\"ä中]{0,200}",
            sizes in proptest::collection::vec(any::<usize>(), 0..20),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            framing in 0..3u8,
        ) {
            let reply = match framing {
                0 => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
                1 => format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{}", chunked(&body, &sizes)),
                _ => format!("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{body}"),
            };
            let keep = framing != 2;
            prop_assert_eq!(read(reply.as_bytes(), &cuts), Ok(Some((200, body.clone(), keep))));
            // The reply cut short: an error, never a shorter reply.
            if !body.is_empty() && framing != 2 {
                let short = &reply.as_bytes()[..reply.len() - 1];
                prop_assert!(read(short, &cuts).is_err());
            }
        }
    }
}
