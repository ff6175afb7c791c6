//! The async client (`features = ["async"]`): every operation as a future, over hyper on the
//! caller's tokio runtime. Requests are built, retried, decoded and logged by the same code as
//! the blocking client's (`client.rs`: the `*_request` builders, `settle`, `retry_pause`,
//! `attempt_timeout`); only sending and pausing differ. No thread waits on the network: a
//! server (the Node binding) drives many requests from a few runtime threads.
//!
//! The transport keeps the blocking client's rules: TLS verified with rustls and the webpki
//! roots (TLS 1.2 and 1.3, ring), no redirects, the connect timeout of the configuration and a
//! whole-request timeout per attempt, at most `max_idle_connections` kept-alive connections,
//! replies capped at [`MAX_REPLY_BYTES`](crate::client) bytes. A connection that could not be
//! set up (refused, DNS, TLS handshake, connect timeout) means nothing was sent; any later
//! failure may have reached the gateway (`maybe_sent`), and a timeout is [`Error::Timeout`].

use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use crate::client::{
    Call, ClientConfig, Method, RawReply, MAX_IDLE, MAX_REPLY_BYTES, MONEY_MAX_IDLE,
};
use crate::error::{Error, Result};

/// The connection pool of one client.
#[derive(Clone)]
pub(crate) struct Http {
    client: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The pool of the requests that move money: connections idle at most
    /// [`MONEY_MAX_IDLE`] (a server closing an idle one as the request goes out would leave the
    /// payment's outcome unknown).
    money: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Http {
    pub(crate) fn new(config: &ClientConfig) -> Result<Http> {
        let tls = crate::tls::client_config(config.ca_certificates.as_ref())?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.connect_timeout));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(std::sync::Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let pool = |max_idle| {
            HyperClient::builder(TokioExecutor::new())
                .pool_max_idle_per_host(config.max_idle_connections)
                .pool_idle_timeout(max_idle)
                .build(connector.clone())
        };
        Ok(Http {
            client: pool(MAX_IDLE),
            money: pool(MONEY_MAX_IDLE),
        })
    }

    /// One attempt: the reply's status and text.
    pub(crate) async fn send(&self, call: &Call, timeout: Duration) -> Result<RawReply> {
        let started = Instant::now();
        let timed_out = || Error::Timeout {
            operation: call.operation.to_owned(),
            after_ms: timeout.as_millis() as u64,
        };
        let (method, content_type, body) = match &call.method {
            Method::Get => ("GET", "text/xml;charset=UTF-8", Bytes::new()),
            Method::Post(b) => (
                "POST",
                "application/json;charset=UTF-8",
                Bytes::from(b.clone()),
            ),
        };
        let request = hyper::Request::builder()
            .method(method)
            .uri(call.url.as_str())
            .header("Content-Type", content_type)
            .header("User-Agent", concat!("sosopay/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(body))
            .map_err(|e| Error::validation("base_url", format!("cannot build the request: {e}")))?;
        let pool = if call.idempotent {
            &self.client
        } else {
            &self.money
        };
        let response = match tokio::time::timeout(timeout, pool.request(request)).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(e)) => return Err(transport_error(call, &e)),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        let left = timeout.saturating_sub(started.elapsed());
        let limited = Limited::new(response.into_body(), MAX_REPLY_BYTES as usize);
        let bytes = match tokio::time::timeout(left, limited.collect()).await {
            Err(_) => return Err(timed_out()),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(Error::decode(format!(
                    "the reply is larger than {MAX_REPLY_BYTES} bytes"
                )))
            }
            Ok(Err(e)) => {
                return Err(Error::Transport {
                    operation: call.operation.to_owned(),
                    reason: format!("connection error while reading the reply: {e}"),
                    maybe_sent: true,
                })
            }
            Ok(Ok(b)) => b.to_bytes(),
        };
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::decode("the reply is not UTF-8"))?;
        Ok(RawReply { status, text })
    }
}

/// A failed request: not sent when the connection could not be set up.
fn transport_error(call: &Call, e: &hyper_util::client::legacy::Error) -> Error {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        if let Some(tls) = crate::tls::rustls_error(s) {
            reason.push_str(crate::tls::refusal_hint(tls));
        }
        source = s.source();
    }
    Error::Transport {
        operation: call.operation.to_owned(),
        reason: if e.is_connect() {
            format!("could not connect to the gateway ({reason})")
        } else {
            format!("connection error: {reason}")
        },
        maybe_sent: !e.is_connect(),
    }
}
