//! The blocking HTTP client: one method per gateway operation.
//!
//! Each method validates the request, signs it, encrypts it when configured, sends it over one
//! shared keep-alive agent (rustls, certificates verified), decrypts and decodes the reply, and
//! returns the typed reply, or a typed [`Error`] whose [`Error::outcome_unknown`] says whether
//! money may have moved.
//!
//! Only idempotent reads are retried automatically (query, and cancel, whose repetition is
//! harmless): a money-moving POST is never re-sent; its outcome is resolved by querying
//! (see [`crate::flows`]).

use std::fmt;
use std::io::Read as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng as _;

use crate::codec::Format;
use crate::enums::{OrderState, ResultCode, SerType, TradeType};
use crate::envelope::{self, Envelope, MerchantKey};
use crate::error::{Error, Result};
use crate::models::{
    validate_code, CancelReply, CancelRequest, FlowRechargeReply, FlowRechargeRequest,
    MicropayRequest, OrderReply, OrderRequest, QueryReply, QueryRequest, RefundReply,
    RefundRequest, Reply,
};
use crate::money::Amount;
use crate::per_process::PerProcess;
use crate::tls::CaCertificates;

/// Largest reply body read (bytes).
pub const MAX_REPLY_BYTES: u64 = 4 * 1024 * 1024;

/// The gateway's published environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Production over HTTPS (recommended).
    Production,
    /// Production over plain HTTP: use `encrypt`, which hides the requests; the replies are
    /// only as trustworthy as the network path (3DES in ECB mode, without authentication, lets
    /// anyone on it replay or splice captured replies: `Production` has TLS).
    ProductionHttp,
    /// The vendor's UAT / test environment.
    Uat,
}

impl Environment {
    /// The base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Environment::Production => "https://www.sssyin.cn/openGateway/openService/",
            Environment::ProductionHttp => "http://www.sssyin.cn/openGateway/openService/",
            Environment::Uat => "http://uat.sssyin.cn:9000/openGateway/openService/",
        }
    }

    /// Parses `production`, `production-http` or `uat` (any case; `_` for `-`, as Python
    /// writes `production_http`; `prod`, `prod-http` and `test` too). Every runtime and the CLI
    /// accept exactly these.
    pub fn from_name(name: &str) -> Option<Environment> {
        match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "production" | "prod" => Some(Environment::Production),
            "production-http" | "prod-http" => Some(Environment::ProductionHttp),
            "uat" | "test" => Some(Environment::Uat),
            _ => None,
        }
    }

    /// [`from_name`](Environment::from_name), or a `Validation` error naming `field` (as the
    /// caller's runtime spells it) that lists the accepted names.
    pub fn parse(name: &str, field: &str) -> Result<Environment> {
        Environment::from_name(name).ok_or_else(|| Error::Validation {
            field: field.to_owned(),
            reason: format!(
                "{name:?} is not one of production (or prod), production-http (production_http, prod-http) or uat (or test)"
            ),
        })
    }
}

/// Retries for idempotent requests: capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first delay.
    pub base_delay: Duration,
    /// The largest delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        }
    }

    /// The delay before attempt `next` (2, 3, ...): `base * 2^(next-2)`, capped, with jitter
    /// between 50% and 100%.
    pub fn delay_before(&self, next: u32) -> Duration {
        let exp = next.saturating_sub(2).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let ms = full.as_millis() as u64;
        if ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms))
    }
}

/// One attempt of one request, for logging and metrics. Never contains the key or the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    /// `preOrder`, `order`, `refund`, `query`, `cancelTrade` or `flowRecharge`.
    pub operation: &'static str,
    /// The order concerned, when there is one.
    pub charge_code: Option<String>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Time from sending to the decoded reply or the error.
    pub duration: Duration,
    /// The HTTP status, when a reply arrived.
    pub http_status: Option<u16>,
    /// `RESULT.CODE`, when a reply was decoded.
    pub result_code: Option<String>,
    /// The order's `STATE` in the reply (wire text, e.g. `"0"`), when it has one.
    pub order_state: Option<String>,
    /// The error, when the attempt failed.
    pub error: Option<String>,
}

/// A request-log hook.
pub type RequestHook = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// Everything a [`Client`] needs.
#[derive(Clone)]
pub struct ClientConfig {
    /// The merchant code (`BUSI_ID`, `busiCode`).
    pub busi_code: String,
    /// The merchant key.
    pub key: MerchantKey,
    /// The base URL, ending in `/openGateway/openService/`.
    pub base_url: String,
    /// Use the 3DES envelope for requests and replies.
    pub encrypt: bool,
    /// The reply format to ask for (JSON by default; the gateway's own default is XML).
    pub format: Format,
    /// Connection set-up timeout (resolving, TCP, a proxy's tunnel, TLS).
    pub connect_timeout: Duration,
    /// Timeout of each attempt (connecting to the reply's last byte) of every operation but
    /// micropay; a retried query or cancel makes up to `retry.max_attempts` attempts.
    pub timeout: Duration,
    /// Timeout of micropay (sent once): above the gateway's 80 s hold.
    pub micropay_timeout: Duration,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// Kept-alive connections to the gateway kept idle for reuse. Default 32: enough for a
    /// server calling from 32 threads at once without opening new connections.
    pub max_idle_connections: usize,
    /// `OPER_ID` used when a request leaves it empty.
    pub default_oper_id: Option<String>,
    /// `DEV_ID` used when a request leaves it empty.
    pub default_dev_id: Option<String>,
    /// The certificate authorities trusted for HTTPS instead of the built-in Mozilla roots
    /// (a TLS-inspecting proxy's, a private CA's); `None`: the built-in roots.
    pub ca_certificates: Option<CaCertificates>,
    /// Called after every attempt.
    pub on_request: Option<RequestHook>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("busi_code", &self.busi_code)
            .field("key", &self.key)
            .field("base_url", &self.base_url)
            .field("encrypt", &self.encrypt)
            .field("format", &self.format)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("micropay_timeout", &self.micropay_timeout)
            .field("retry", &self.retry)
            .field("max_idle_connections", &self.max_idle_connections)
            .field("default_oper_id", &self.default_oper_id)
            .field("default_dev_id", &self.default_dev_id)
            .field("ca_certificates", &self.ca_certificates)
            .field("on_request", &self.on_request.as_ref().map(|_| "<hook>"))
            .finish()
    }
}

impl ClientConfig {
    /// A configuration with the defaults: JSON replies, no encryption, 5 s connect, 20 s
    /// timeout, 95 s micropay timeout, 3 attempts for queries.
    pub fn new(
        busi_code: impl Into<String>,
        key: &str,
        base_url: impl Into<String>,
    ) -> Result<Self> {
        let busi_code = busi_code.into();
        validate_code("busi_code", &busi_code)?;
        let key = MerchantKey::new(key)?;
        let mut base_url: String = base_url.into();
        if !base_url.ends_with('/') {
            base_url.push('/');
        }
        check_base_url(&base_url)?;
        Ok(ClientConfig {
            busi_code,
            key,
            base_url,
            encrypt: false,
            format: Format::Json,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            micropay_timeout: Duration::from_secs(95),
            retry: RetryPolicy::default(),
            max_idle_connections: 32,
            default_oper_id: None,
            default_dev_id: None,
            ca_certificates: None,
            on_request: None,
        })
    }

    /// A configuration for one of the published environments.
    pub fn for_environment(
        busi_code: impl Into<String>,
        key: &str,
        env: Environment,
    ) -> Result<Self> {
        Self::new(busi_code, key, env.base_url())
    }
}

impl ClientConfig {
    /// A configuration for `base_url` or a published `environment` (by name, see
    /// [`Environment::parse`]): exactly one of the two. Every binding builds its client
    /// through this; errors name `base_url` or `environment` as the core spells them.
    pub fn for_target(
        busi_code: impl Into<String>,
        key: &str,
        base_url: Option<String>,
        environment: Option<&str>,
    ) -> Result<Self> {
        let base_url = match (base_url, environment) {
            (Some(url), None) => url,
            (None, Some(env)) => Environment::parse(env, "environment")?
                .base_url()
                .to_owned(),
            (Some(_), Some(_)) => {
                return Err(Error::validation(
                    "base_url",
                    "cannot be given with environment: give one",
                ))
            }
            (None, None) => {
                return Err(Error::validation(
                    "base_url",
                    "is required (or environment: production, production-http or uat)",
                ))
            }
        };
        Self::new(busi_code, key, base_url)
    }
}

/// A client's settings; an unset one takes its default.
///
/// Flat, as every binding takes them: an unset setting takes the default of
/// [`ClientConfig::new`]. The bindings' option records and their readers (Node's `ClientOptions`, Kotlin/Swift's `ClientConfig`, Python's `Client(...)`
/// arguments) are generated from this struct by `scripts/gen-foreign.py`, so a setting added
/// here reaches every runtime. [`ClientOptions::into_config`] checks them all; its errors name
/// these fields.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// The merchant code (`BUSI_ID`).
    pub busi_code: String,
    /// The merchant key. Never printed or logged by the SDK.
    pub key: String,
    /// The gateway base URL (`.../openGateway/openService/`). Give this or `environment`.
    pub base_url: Option<String>,
    /// A published environment instead of a base URL: `production`, `production-http` or `uat`.
    pub environment: Option<String>,
    /// Use the 3DES envelope for requests and replies. Default false.
    pub encrypt: Option<bool>,
    /// The reply format to ask for: `json` (default) or `xml`.
    pub format: Option<String>,
    /// Connection set-up timeout (resolving, TCP, a proxy's tunnel, TLS). Default 5 s.
    pub connect_timeout: Option<Duration>,
    /// Timeout of each attempt (connecting to the reply's last byte) of every operation but
    /// micropay; a retried query or cancel makes up to `retry_max_attempts` attempts. Default
    /// 20 s.
    pub timeout: Option<Duration>,
    /// Timeout of micropay (sent once): above the gateway's 80 s hold. Default 95 s.
    pub micropay_timeout: Option<Duration>,
    /// Attempts of a query or a cancel in all, the first included (1 disables retries; other
    /// operations are never retried). Default 3.
    pub retry_max_attempts: Option<u32>,
    /// The first retry delay. Default 200 ms.
    pub retry_base_delay: Option<Duration>,
    /// The largest retry delay. Default 2 s.
    pub retry_max_delay: Option<Duration>,
    /// Kept-alive connections kept for reuse (1 to 1024). Default 32.
    pub max_idle_connections: Option<u32>,
    /// `OPER_ID` used when a request has none.
    pub default_oper_id: Option<String>,
    /// `DEV_ID` used when a request has none.
    pub default_dev_id: Option<String>,
    /// A PEM file of the certificate authorities to trust for HTTPS instead of the built-in
    /// (Mozilla) roots: a TLS-inspecting proxy's or a private CA's. Read when the client is
    /// built. Give this or `ca_pem`.
    pub ca_file: Option<String>,
    /// The same certificates as PEM text (an app's bundled resource, a secret store's value).
    pub ca_pem: Option<String>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("busi_code", &self.busi_code)
            .field("key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

/// The names [`ClientConfig::validate`] gives the retry settings, and the options' names.
const RETRY_FIELDS: &[(&str, &str)] = &[
    ("retry.max_attempts", "retry_max_attempts"),
    ("retry.base_delay", "retry_base_delay"),
    ("retry.max_delay", "retry_max_delay"),
];

impl ClientOptions {
    /// The configuration (without a request hook), every setting checked as
    /// [`ClientConfig::validate`] does; an error names the option (`retry_max_attempts`, not
    /// `retry.max_attempts`).
    pub fn into_config(self) -> Result<ClientConfig> {
        let mut c = ClientConfig::for_target(
            self.busi_code,
            &self.key,
            self.base_url,
            self.environment.as_deref(),
        )?;
        c.encrypt = self.encrypt.unwrap_or(c.encrypt);
        c.format = parse_format(self.format.as_deref(), "format")?;
        c.connect_timeout = self.connect_timeout.unwrap_or(c.connect_timeout);
        c.timeout = self.timeout.unwrap_or(c.timeout);
        c.micropay_timeout = self.micropay_timeout.unwrap_or(c.micropay_timeout);
        c.retry.max_attempts = self.retry_max_attempts.unwrap_or(c.retry.max_attempts);
        c.retry.base_delay = self.retry_base_delay.unwrap_or(c.retry.base_delay);
        c.retry.max_delay = self.retry_max_delay.unwrap_or(c.retry.max_delay);
        if let Some(n) = self.max_idle_connections {
            c.max_idle_connections = n as usize;
        }
        c.default_oper_id = self.default_oper_id;
        c.default_dev_id = self.default_dev_id;
        c.ca_certificates = match (self.ca_file, self.ca_pem) {
            (Some(_), Some(_)) => {
                return Err(Error::validation(
                    "ca_file",
                    "cannot be given with ca_pem: give one",
                ))
            }
            (Some(path), None) => Some(CaCertificates::from_file(&path, "ca_file")?),
            (None, Some(pem)) => Some(CaCertificates::from_pem(pem.as_bytes(), "ca_pem")?),
            (None, None) => None,
        };
        c.validate().map_err(|e| e.renamed_fields(RETRY_FIELDS))?;
        Ok(c)
    }
}

/// The reply format a client asks for, by name: `json` (also when unset) or `xml`, any case.
pub fn parse_format(name: Option<&str>, field: &str) -> Result<Format> {
    let Some(name) = name else {
        return Ok(Format::Json);
    };
    match Format::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(name))
    {
        Some(f) => Ok(f),
        None => {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            Err(Error::validation(
                field,
                format!("{name:?} is not {}", names.join(" or ")),
            ))
        }
    }
}

/// The longest timeout accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// The most attempts a retry policy may make.
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest retry delay accepted.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

impl ClientConfig {
    /// Checks every setting, naming the field: the base URL and merchant code, timeouts
    /// between 1 ms and [`MAX_TIMEOUT`], `retry.max_attempts` between 1 and [`MAX_ATTEMPTS`],
    /// `retry.base_delay` at most `retry.max_delay`, at most [`MAX_RETRY_DELAY`].
    pub fn validate(&self) -> Result<()> {
        check_base_url(&self.base_url)?;
        validate_code("busi_code", &self.busi_code)?;
        for (field, d) in [
            ("connect_timeout", self.connect_timeout),
            ("timeout", self.timeout),
            ("micropay_timeout", self.micropay_timeout),
        ] {
            if d < Duration::from_millis(1) || d > MAX_TIMEOUT {
                return Err(Error::validation(
                    field,
                    format!("must be between 1 ms and {} s", MAX_TIMEOUT.as_secs()),
                ));
            }
        }
        if !(1..=1024).contains(&self.max_idle_connections) {
            return Err(Error::validation(
                "max_idle_connections",
                "must be between 1 and 1024",
            ));
        }
        let r = &self.retry;
        if !(1..=MAX_ATTEMPTS).contains(&r.max_attempts) {
            return Err(Error::validation(
                "retry.max_attempts",
                format!("must be between 1 and {MAX_ATTEMPTS}"),
            ));
        }
        if r.max_delay > MAX_RETRY_DELAY {
            return Err(Error::validation(
                "retry.max_delay",
                format!("must be at most {} s", MAX_RETRY_DELAY.as_secs()),
            ));
        }
        if r.base_delay > r.max_delay {
            return Err(Error::validation(
                "retry.base_delay",
                "must be at most retry.max_delay",
            ));
        }
        for (field, v) in [
            ("default_oper_id", &self.default_oper_id),
            ("default_dev_id", &self.default_dev_id),
        ] {
            if let Some(v) = v {
                // A blank default would leave every payment without the id, and its error
                // would name the request's field instead of this one.
                if v.trim().is_empty() {
                    return Err(Error::validation(
                        field,
                        "is blank: give the id, or leave it unset",
                    ));
                }
                if v.chars().any(char::is_control) || v.chars().count() > 64 {
                    return Err(Error::validation(
                        field,
                        "must be at most 64 characters without control characters",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check_base_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(Error::validation(
            "base_url",
            "must start with http:// or https://",
        ));
    }
    if url.contains(['?', '#', ' ']) || url.chars().any(char::is_control) {
        return Err(Error::validation(
            "base_url",
            "must not contain '?', '#', spaces or control characters",
        ));
    }
    if crate::models::url_authority(url).contains('@') {
        // The URL is printed (the client's `Debug`, `base_url` getters, logs): a password in it
        // would be too. The gateway authenticates a request by its signature, not the URL.
        return Err(Error::validation(
            "base_url",
            "must not contain credentials (user:password@): the gateway authenticates requests by their signature",
        ));
    }
    if crate::models::url_host(url).is_empty() {
        return Err(Error::validation("base_url", "has no host"));
    }
    // The port, after the host (`[::1]:8080`, `host:8080`): 1 to 65535 when given.
    let authority = crate::models::url_authority(url);
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, p)| p);
    if let Some((_, port)) = after_host.rsplit_once(':') {
        if !port.is_empty() && !matches!(port.parse::<u16>(), Ok(1..)) {
            return Err(Error::validation(
                "base_url",
                format!("has the port {port:?}: a port is 1 to 65535"),
            ));
        }
    }
    if !url.ends_with('/') {
        // `ClientConfig::new` adds it; a base URL set afterwards without it would send
        // `.../openServicepreOrder`.
        return Err(Error::validation(
            "base_url",
            "must end with '/' (the operation is appended to it: .../openGateway/openService/)",
        ));
    }
    Ok(())
}

/// The longest a kept-alive connection may have been idle to carry a request that moves money
/// (micropay, an order, a refund, a top-up: never re-sent). A server closes an idle connection
/// after its keep-alive timeout (Apache 5 s, Tomcat 20 s, nginx 75 s); a request sent on it just
/// as it closes fails in a way that cannot be told from a request lost after arriving, so the
/// payment's outcome would be unknown (a till then waits out the gateway's 80 s hold) though
/// the gateway never saw it. Below any server's timeout, such a request takes a fresh
/// connection instead (one more round trip, or three with TLS).
pub(crate) const MONEY_MAX_IDLE: Duration = Duration::from_secs(2);

/// How long the pools keep an idle connection for the other requests (ureq's default, which the
/// async client follows too): they are retried when such a race hits them.
pub(crate) const MAX_IDLE: Duration = Duration::from_secs(15);

/// The first proxy variable of the environment (in the order ureq reads them) that is set but
/// that ureq cannot read: it would skip it silently (and a client with no other proxy set
/// would connect to the gateway directly). Its value is never shown (it may hold a password).
fn unreadable_proxy() -> Option<&'static str> {
    for var in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        match std::env::var(var) {
            Ok(v) if v.is_empty() => {}
            Ok(v) => return ureq::Proxy::new(&v).is_err().then_some(var),
            Err(std::env::VarError::NotUnicode(_)) => return Some(var),
            Err(std::env::VarError::NotPresent) => {}
        }
    }
    None
}

/// The blocking client's HTTP agent: keep-alive pool, timeouts, no redirects, the caching
/// resolver; TLS verified (ureq's rustls with the webpki roots, or the configured CAs).
fn agent(config: &ClientConfig) -> ureq::Agent {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(ca) = &config.ca_certificates {
        tls = tls.root_certs(ca.ureq_roots());
    }
    let agent_config = ureq::Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .timeout_connect(Some(config.connect_timeout))
        .max_redirects(0)
        .max_idle_connections(config.max_idle_connections)
        .max_idle_connections_per_host(config.max_idle_connections)
        .max_idle_age(MAX_IDLE)
        .user_agent(concat!("sosopay/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(
        agent_config,
        ureq::unversioned::transport::DefaultConnector::default(),
        crate::resolve::CachingResolver::default(),
    )
}

struct Inner {
    config: ClientConfig,
    envelope: Envelope,
    /// The blocking client's transport and its keep-alive pool, per process (a forked child
    /// opens its own connections); `None` when a proxy from the environment (`ALL_PROXY`,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, less `NO_PROXY`) applies to the gateway: the blocking
    /// client then sends through ureq (`agent`, which honours it), and the async client runs
    /// the blocking one on tokio's blocking pool.
    http: Option<PerProcess<Arc<crate::http1::Transport>>>,
    /// The `http://` proxy `http` tunnels through, if one applies.
    tunnel: Option<crate::http1::Tunnel>,
    /// Whether a proxy applies to the gateway (the async client then runs the blocking one).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    proxied: bool,
    /// ureq, for a gateway reached through an `https://` or SOCKS proxy, per process.
    agent: PerProcess<ureq::Agent>,
    /// The async client's transport (made on the first `*_async` call), per process.
    #[cfg(feature = "async")]
    http_async: std::sync::OnceLock<PerProcess<crate::transport_async::Http>>,
}

/// The gateway client. Cheap to clone and share across threads (`Send + Sync`).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("busi_code", &self.inner.config.busi_code)
            .field("base_url", &self.inner.config.base_url)
            .field("encrypt", &self.inner.config.encrypt)
            .finish_non_exhaustive()
    }
}

pub(crate) enum Method {
    Get,
    Post(String),
}

pub(crate) struct Call {
    pub(crate) operation: &'static str,
    charge_code: Option<String>,
    pub(crate) url: String,
    pub(crate) method: Method,
    timeout: Duration,
    pub(crate) idempotent: bool,
    /// No attempt (nor retry pause) runs past this instant (a flow's time budget).
    limit: Option<Instant>,
    /// Return the decoded reply whatever its `RESULT.CODE` (the flows read the order's state
    /// from failure replies too).
    any_code: bool,
    /// The codes the reply must be about (`CHARGE_CODE`, `CHARGE_DOWN_CODE`, a refund's
    /// `OUT_REFUND_NO` or a top-up's `phoneNo`, and the value), where the reply names them: a
    /// reply about another order, refund or top-up (meant for another request) is a `Decode`
    /// error, never facts about this one.
    expect: Vec<(&'static str, String)>,
    /// What a successful reply's order must match where it shows it (an order created by
    /// this call: a plain micropay, a QR or JSAPI order): the amount, the customer's code, the
    /// channel and `MERCHANTPARA` the request fixed, by the flows' own rule.
    expect_payment: Option<Box<crate::flows::Expected>>,
    /// A refund's amount: a successful reply listing where the money went (`FUND_BILL_LIST`)
    /// must add up to it, and the order state it shows (`STATE`), if any, must be a refunded
    /// one (4 partially refunded, 5 refunded).
    expect_refund: Option<Amount>,
    /// Set by each attempt: its reply was opened and read (whatever it then said, an answer
    /// about another order included). A flow tells a gateway that answers, but not about this
    /// order, from one whose answers cannot be read (a wrong key, not the gateway at all).
    pub(crate) answered: AtomicBool,
}

impl Call {
    /// A bare call to `url` (the transports' tests).
    #[cfg(test)]
    pub(crate) fn bare(url: &str, method: Method, idempotent: bool) -> Call {
        Call {
            operation: if idempotent { "query" } else { "micropay" },
            charge_code: None,
            url: url.to_owned(),
            method,
            timeout: Duration::from_secs(5),
            idempotent,
            limit: None,
            any_code: false,
            expect: Vec::new(),
            expect_payment: None,
            expect_refund: None,
            answered: AtomicBool::new(false),
        }
    }

    /// The reply must be about the order this call creates (a micropay, a QR or JSAPI order):
    /// its own `CHARGE_CODE` and, when given, this payment's facts.
    fn about_its_order(mut self, payment: Option<crate::flows::Expected>) -> Self {
        self.expect = self
            .charge_code
            .iter()
            .map(|c| ("CHARGE_CODE", c.clone()))
            .collect();
        self.expect_payment = payment.map(Box::new);
        self
    }
}

#[derive(Debug)]
pub(crate) struct RawReply {
    pub(crate) status: u16,
    pub(crate) text: String,
}

impl Client {
    /// Builds the client and its HTTP agent.
    pub fn new(config: ClientConfig) -> Result<Client> {
        config.validate()?;
        if let Some(var) = unreadable_proxy() {
            return Err(Error::validation(
                "proxy",
                format!(
                    "the environment's {var} is not a proxy URL sosopay can read (http://[user:password@]host:port, with any other character than letters, digits and -._~ in the user name or password percent-encoded, and no spaces around it): fix it or unset it. Ignored, it would let the client reach the gateway directly, past the proxy"
                ),
            ));
        }
        let agent = agent(&config);
        let envelope = Envelope::new(config.key.clone());
        let proxy = agent.config().proxy().filter(|p| {
            config
                .base_url
                .parse::<ureq::http::Uri>()
                .map_or(true, |u| !p.is_no_proxy(&u))
        });
        // A SOCKS proxy: ureq (built without SOCKS) would warn in its log and connect to the
        // gateway directly, past the proxy the environment asks for.
        if let Some(p) = proxy.filter(|p| {
            !matches!(
                p.protocol(),
                ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https
            )
        }) {
            return Err(Error::validation(
                "proxy",
                format!(
                    "the environment's proxy (ALL_PROXY, HTTPS_PROXY or HTTP_PROXY) is a {:?} proxy at {}:{}, which sosopay does not support: use an http:// (CONNECT) proxy, or list the gateway's host in NO_PROXY",
                    p.protocol(),
                    p.host(),
                    p.port()
                ),
            ));
        }
        // An `http://` proxy: the clients' own transport tunnels through it (`CONNECT`), every
        // byte within the time allowed. An `https://` one: ureq.
        let tunnel = match proxy {
            Some(p) if p.protocol() == ureq::ProxyProtocol::Http => Some(
                crate::http1::Tunnel::new(p.host(), p.port(), p.username(), p.password()),
            ),
            _ => None,
        };
        let proxied = proxy.is_some();
        let http = if proxied && tunnel.is_none() {
            None
        } else {
            let transport = crate::http1::Transport::new(&config, tunnel.clone())?;
            Some(PerProcess::new(Arc::new(transport)))
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                envelope,
                http,
                tunnel,
                proxied,
                agent: PerProcess::new(agent),
                #[cfg(feature = "async")]
                http_async: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    fn busi(&self) -> &str {
        &self.inner.config.busi_code
    }

    /// A notification URL on this machine (`localhost`, 127.0.0.1) given to a gateway elsewhere
    /// is refused: that gateway could never deliver to it, and the payment would be known only
    /// by querying. (A gateway on this machine, the sandbox, reaches it.)
    fn check_notify_url(&self, notify_url: Option<&str>) -> Result<()> {
        use crate::models::{is_loopback_host, url_host};
        let Some(url) = notify_url else {
            return Ok(());
        };
        let (host, gateway) = (url_host(url), url_host(&self.inner.config.base_url));
        if is_loopback_host(&host) && !is_loopback_host(&gateway) {
            return Err(Error::validation(
                "notify_url",
                format!(
                    "points at this machine ({host}), which the gateway at {gateway} cannot reach: give a URL reachable from the internet"
                ),
            ));
        }
        Ok(())
    }

    /// Fills a micropay request's empty `OPER_ID` / `DEV_ID` from the configured defaults.
    pub(crate) fn fill_defaults(&self, req: &mut MicropayRequest) {
        self.fill_ids(&mut req.oper_id, &mut req.dev_id);
    }

    fn fill_ids(&self, oper_id: &mut String, dev_id: &mut String) {
        let c = &self.inner.config;
        if oper_id.trim().is_empty() {
            if let Some(d) = &c.default_oper_id {
                oper_id.clone_from(d);
            }
        }
        if dev_id.trim().is_empty() {
            if let Some(d) = &c.default_dev_id {
                dev_id.clone_from(d);
            }
        }
    }

    fn common_params(&self, url: &mut String, sign: &str, percent_sign: bool) {
        url.push_str("?sign=");
        if percent_sign {
            url.push_str(&sign.replace(':', "%3A"));
        } else {
            url.push_str(sign);
        }
        if self.inner.config.format == Format::Json {
            url.push_str("&_type=json");
        }
    }

    fn encrypt_params(&self, url: &mut String) {
        if self.inner.config.encrypt {
            url.push_str("&encrypt=3DES&busiCode=");
            url.push_str(self.busi());
        }
    }

    /// A signed (and, when configured, encrypted) POST of `body` to `url` (without its query).
    fn post_call(
        &self,
        operation: &'static str,
        charge_code: Option<String>,
        mut url: String,
        body: String,
        timeout: Duration,
    ) -> Result<Call> {
        let ts = envelope::now_millis().to_string();
        let sign = self.inner.envelope.sign_body(&ts, &body)?;
        self.common_params(&mut url, &sign, false);
        self.encrypt_params(&mut url);
        let body = if self.inner.config.encrypt {
            self.inner.envelope.encrypt(body.as_bytes())
        } else {
            body
        };
        Ok(Call {
            operation,
            charge_code,
            url,
            method: Method::Post(body),
            timeout,
            idempotent: false,
            limit: None,
            any_code: false,
            expect: Vec::new(),
            expect_payment: None,
            expect_refund: None,
            answered: AtomicBool::new(false),
        })
    }

    /// A POST to `{base_url}{operation}` (preOrder, order, refund).
    fn open_service_post(
        &self,
        operation: &'static str,
        charge_code: Option<String>,
        body: String,
        timeout: Duration,
    ) -> Result<Call> {
        let url = format!("{}{operation}", self.inner.config.base_url);
        self.post_call(operation, charge_code, url, body, timeout)
    }

    /// A GET of `{base_url}{operation}/{code}/{BUSI_CODE}` (query, cancelTrade), signed with
    /// `sign`, with `extra` query parameters (each starting with `&`); idempotent, so retried.
    fn get_call(&self, operation: &'static str, code: &str, sign: &str, extra: &str) -> Call {
        let busi = self.busi();
        let mut url = format!("{}{operation}/{code}/{busi}", self.inner.config.base_url);
        self.common_params(&mut url, sign, true);
        url.push_str("&BUSI_ID=");
        url.push_str(busi);
        url.push_str(extra);
        self.encrypt_params(&mut url);
        Call {
            operation,
            charge_code: Some(code.to_owned()),
            url,
            method: Method::Get,
            timeout: self.inner.config.timeout,
            idempotent: true,
            limit: None,
            any_code: false,
            expect: Vec::new(),
            expect_payment: None,
            expect_refund: None,
            answered: AtomicBool::new(false),
        }
    }

    /// Micropay (被扫, `preOrder`): charge the customer's scanned code. The gateway may hold the
    /// request up to 80 s while the customer confirms. A lost reply is an error whose
    /// `outcome_unknown` is true: prefer [`Client::micropay_and_wait`], which settles it.
    ///
    /// A successful reply showing another payment's order (another amount, customer code,
    /// fixed channel or `MERCHANTPARA`) is a `Decode` error (`outcome_unknown`). A reply that
    /// leaves those fields out is returned as it is; the till flow would query such an order
    /// before taking it as this payment's.
    pub fn micropay(&self, req: &MicropayRequest) -> Result<OrderReply> {
        self.micropay_call(req, self.inner.config.micropay_timeout, None, false)
    }

    /// Micropay for the flows: bounded by `timeout` and `limit`; with `any_code`, a reply with
    /// a failure code is returned as a reply (its `STATE` matters) rather than an error.
    pub(crate) fn micropay_call(
        &self,
        req: &MicropayRequest,
        timeout: Duration,
        limit: Option<Instant>,
        any_code: bool,
    ) -> Result<OrderReply> {
        self.execute(&self.micropay_request(req, timeout, limit, any_code)?)
    }

    fn micropay_request(
        &self,
        req: &MicropayRequest,
        timeout: Duration,
        limit: Option<Instant>,
        any_code: bool,
    ) -> Result<Call> {
        let mut req = req.clone();
        self.fill_ids(&mut req.oper_id, &mut req.dev_id);
        req.validate()?;
        self.check_notify_url(req.notify_url.as_deref())?;
        let body = req.to_wire(self.busi()).to_json_text();
        // The flows judge the reply's order themselves (another payment's: `Conflict`,
        // confirmed by a query); a plain micropay refuses it.
        let expected = (!any_code).then(|| crate::flows::Expected::of(&req));
        let mut call = self
            .open_service_post("preOrder", Some(req.charge_code), body, timeout)?
            .about_its_order(expected);
        call.limit = limit;
        call.any_code = any_code;
        Ok(call)
    }

    /// A QR order (主扫): the reply's `bar_code` is the link to render as a QR code.
    pub fn create_qr_order(&self, req: &OrderRequest) -> Result<OrderReply> {
        self.execute(&self.qr_order_request(req)?)
    }

    fn qr_order_request(&self, req: &OrderRequest) -> Result<Call> {
        if req.is_jsapi() {
            return Err(Error::validation(
                "trade_type",
                "use create_jsapi_order for JSAPI orders",
            ));
        }
        self.order_request(req.clone())
    }

    /// A WeChat JSAPI order (公众号): `TRADE_TYPE=JSAPI` is set; the reply's `jsapi` holds
    /// the six parameters for `WeixinJSBridge`.
    pub fn create_jsapi_order(&self, req: &OrderRequest) -> Result<OrderReply> {
        jsapi_reply(self.execute(&self.jsapi_order_request(req)?)?)
    }

    fn jsapi_order_request(&self, req: &OrderRequest) -> Result<Call> {
        let mut req = req.clone();
        req.trade_type = Some(TradeType::Jsapi);
        self.order_request(req)
    }

    fn order_request(&self, mut req: OrderRequest) -> Result<Call> {
        self.fill_ids(&mut req.oper_id, &mut req.dev_id);
        req.validate()?;
        self.check_notify_url(req.notify_url.as_deref())?;
        let body = req.to_wire(self.busi()).to_json_text();
        let expected = crate::flows::Expected::of_order(&req);
        Ok(self
            .open_service_post(
                "order",
                Some(req.charge_code),
                body,
                self.inner.config.timeout,
            )?
            .about_its_order(Some(expected)))
    }

    /// A refund (partial or full). Reuse `out_refund_no` to retry a refund safely.
    ///
    /// A successful reply whose `FUND_BILL_LIST` adds up to another amount than
    /// `refund_amount` (the refund made before under this `out_refund_no`, or an answer meant
    /// for another request) is a `Decode` error (`outcome_unknown`): this refund was not shown
    /// done. So is a successful reply showing the order in another `STATE` than refunded (5)
    /// or partially refunded (4) (refund failed, still paid, ...: a reply that says two
    /// things), and one naming another `CHARGE_CODE`, `CHARGE_DOWN_CODE` or `OUT_REFUND_NO`
    /// than the request.
    ///
    /// A refund naming its order by both numbers is sent only once a query by the gateway's
    /// number shows that order under this `charge_code`: given both, the gateway refunds the
    /// order `charge_down_code` names, so a `charge_down_code` of another order would move that
    /// order's money. Two numbers of different orders are a `Validation` error naming
    /// `charge_down_code`, and nothing is refunded.
    pub fn refund(&self, req: &RefundRequest) -> Result<RefundReply> {
        let call = self.refund_request(req)?;
        if let Some(q) = one_order_query(req) {
            one_order(req, self.query(&q))?;
        }
        self.execute(&call)
    }

    fn refund_request(&self, req: &RefundRequest) -> Result<Call> {
        let mut req = req.clone();
        self.fill_ids(&mut req.oper_id, &mut req.dev_id);
        req.validate()?;
        let body = req.to_wire(self.busi()).to_json_text();
        // The order as the request names it (by either number, or both), and the refund.
        let expect = [
            ("CHARGE_CODE", req.charge_code.clone()),
            ("CHARGE_DOWN_CODE", req.charge_down_code.clone()),
            ("OUT_REFUND_NO", Some(req.out_refund_no.clone())),
        ]
        .into_iter()
        .filter_map(|(field, want)| Some((field, want?)))
        .collect();
        let cc = req.charge_code.or(req.charge_down_code);
        let mut call = self.open_service_post("refund", cc, body, self.inner.config.timeout)?;
        call.expect = expect;
        call.expect_refund = Some(req.refund_amount);
        Ok(call)
    }

    /// Queries an order (retried on transport errors and 5xx).
    pub fn query(&self, req: &QueryRequest) -> Result<QueryReply> {
        self.query_within(req, None)
    }

    /// A query whose attempts and retries all end by `limit`.
    pub(crate) fn query_within(
        &self,
        req: &QueryRequest,
        limit: Option<Instant>,
    ) -> Result<QueryReply> {
        self.query_answered(req, limit).0
    }

    /// [`Client::query_within`], and whether its last attempt's reply could be read (opened
    /// and decoded), whatever it said: an error then is an answer about another order or one
    /// that says two things, not a gateway this client cannot talk to.
    pub(crate) fn query_answered(
        &self,
        req: &QueryRequest,
        limit: Option<Instant>,
    ) -> (Result<QueryReply>, bool) {
        match self.query_request(req, limit) {
            Ok(call) => {
                let result = self.execute(&call);
                (result, call.answered.load(Ordering::Relaxed))
            }
            Err(e) => (Err(e), false),
        }
    }

    fn query_request(&self, req: &QueryRequest, limit: Option<Instant>) -> Result<Call> {
        req.validate()?;
        let ts = envelope::now_millis().to_string();
        let sign = envelope::sign_query(&self.inner.config.key, &ts, &req.code)?;
        let extra = format!("&serType={}", req.ser_type.as_wire());
        let mut call = self.get_call("query", &req.code, &sign, &extra);
        call.limit = limit;
        call.expect = match req.ser_type {
            SerType::ChargeCode => vec![("CHARGE_CODE", req.code.clone())],
            SerType::ChargeDownCode => vec![("CHARGE_DOWN_CODE", req.code.clone())],
            _ => Vec::new(),
        };
        // A charge code is unique per merchant: an order shown under another merchant's code
        // is not ours, whatever it says.
        call.expect
            .push(("BUSI_ID", self.inner.config.busi_code.clone()));
        Ok(call)
    }

    /// Queries an order by the merchant's `CHARGE_CODE`.
    pub fn query_charge(&self, charge_code: &str) -> Result<QueryReply> {
        self.query(&QueryRequest {
            code: charge_code.to_owned(),
            ser_type: SerType::ChargeCode,
        })
    }

    /// Cancels (reverses) an order: immediately, or as an application (`opType=ACO`). Retried
    /// like a query. `AREADY_REVOKED` (the order is cancelled already: by an earlier attempt
    /// whose reply was lost, by this call made before, or otherwise) is returned as a reply with
    /// that code, never as an error: the order is cancelled, as asked.
    pub fn cancel(&self, req: &CancelRequest) -> Result<CancelReply> {
        self.cancel_within(req, None)
    }

    /// A cancel whose attempts and retries all end by `limit`.
    pub(crate) fn cancel_within(
        &self,
        req: &CancelRequest,
        limit: Option<Instant>,
    ) -> Result<CancelReply> {
        self.execute(&self.cancel_request(req, limit)?)
    }

    fn cancel_request(&self, req: &CancelRequest, limit: Option<Instant>) -> Result<Call> {
        req.validate()?;
        let ts = envelope::now_millis().to_string();
        let sign =
            envelope::sign_cancel(&self.inner.config.key, &ts, &req.charge_code, self.busi())?;
        let extra = if req.apply { "&opType=ACO" } else { "" };
        let mut call = self.get_call("cancelTrade", &req.charge_code, &sign, extra);
        call.limit = limit;
        // A reply naming another order is about another request (the documented one names none).
        call.expect = vec![("CHARGE_CODE", req.charge_code.clone())];
        Ok(call)
    }

    /// A mobile data top-up (`platService/flowRecharge/{BUSI_CODE}`).
    pub fn flow_recharge(&self, req: &FlowRechargeRequest) -> Result<FlowRechargeReply> {
        // A non-success result code becomes `Error::Gateway` inside `execute`.
        self.execute(&self.flow_recharge_request(req)?)
    }

    fn flow_recharge_request(&self, req: &FlowRechargeRequest) -> Result<Call> {
        req.validate()?;
        self.check_notify_url(req.notify_url.as_deref())?;
        let base = &self.inner.config.base_url;
        let root = base
            .strip_suffix("openService/")
            .map(|r| format!("{r}platService/"))
            .unwrap_or_else(|| format!("{base}../platService/"));
        let url = format!("{root}flowRecharge/{}", self.busi());
        let mut call = self.post_call(
            "flowRecharge",
            None,
            url,
            req.to_wire_json(),
            self.inner.config.timeout,
        )?;
        call.expect = vec![
            ("phoneNo", req.phone_no.clone()),
            ("flowVal", req.flow_val.to_string()),
        ];
        Ok(call)
    }

    /// [`Client::micropay`] as a future (feature `async`), on the caller's tokio runtime.
    #[cfg(feature = "async")]
    pub async fn micropay_async(&self, req: &MicropayRequest) -> Result<OrderReply> {
        let call = self.micropay_request(req, self.inner.config.micropay_timeout, None, false)?;
        self.execute_async(call).await
    }

    /// [`Client::create_qr_order`] as a future (feature `async`).
    #[cfg(feature = "async")]
    pub async fn create_qr_order_async(&self, req: &OrderRequest) -> Result<OrderReply> {
        self.execute_async(self.qr_order_request(req)?).await
    }

    /// [`Client::create_jsapi_order`] as a future (feature `async`).
    #[cfg(feature = "async")]
    pub async fn create_jsapi_order_async(&self, req: &OrderRequest) -> Result<OrderReply> {
        jsapi_reply(self.execute_async(self.jsapi_order_request(req)?).await?)
    }

    /// [`Client::refund`] as a future (feature `async`).
    #[cfg(feature = "async")]
    pub async fn refund_async(&self, req: &RefundRequest) -> Result<RefundReply> {
        let call = self.refund_request(req)?;
        if let Some(q) = one_order_query(req) {
            one_order(req, self.query_async(&q).await)?;
        }
        self.execute_async(call).await
    }

    /// [`Client::query`] as a future (feature `async`).
    #[cfg(feature = "async")]
    pub async fn query_async(&self, req: &QueryRequest) -> Result<QueryReply> {
        self.execute_async(self.query_request(req, None)?).await
    }

    /// [`Client::cancel`] as a future (feature `async`).
    #[cfg(feature = "async")]
    pub async fn cancel_async(&self, req: &CancelRequest) -> Result<CancelReply> {
        self.execute_async(self.cancel_request(req, None)?).await
    }

    /// [`Client::flow_recharge`] as a future (feature `async`).
    #[cfg(feature = "async")]
    pub async fn flow_recharge_async(
        &self,
        req: &FlowRechargeRequest,
    ) -> Result<FlowRechargeReply> {
        self.execute_async(self.flow_recharge_request(req)?).await
    }

    /// Sends `call` (with retries when it is idempotent) and decodes the reply; a non-success
    /// result code is [`Error::Gateway`]. The blocking driver of the steps below; the async one
    /// is `execute_async` (`transport_async.rs`).
    fn execute<R: Answer>(&self, call: &Call) -> Result<R> {
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let timeout = attempt_timeout(call, started)?;
            let sent = self.send_once(call, timeout);
            match self.settle(call, attempt, started, sent) {
                Err(e) => match self.retry_pause(call, attempt, &e) {
                    Some(pause) => {
                        std::thread::sleep(pause);
                        attempt += 1;
                    }
                    None => return Err(e),
                },
                ok => return ok,
            }
        }
    }

    /// One attempt's result: the reply (decoded, its result code checked) or the error; logs
    /// the attempt (`on_request`).
    fn settle<R: Answer>(
        &self,
        call: &Call,
        attempt: u32,
        started: Instant,
        sent: Result<RawReply>,
    ) -> Result<R> {
        let mut log = RequestLog {
            operation: call.operation,
            charge_code: call.charge_code.clone(),
            attempt,
            duration: Duration::ZERO,
            http_status: None,
            result_code: None,
            order_state: None,
            error: None,
        };
        call.answered.store(false, Ordering::Relaxed);
        let outcome: Result<R> = match sent {
            Ok(raw) => {
                log.http_status = Some(raw.status);
                if (400..500).contains(&raw.status)
                    && !raw.text.trim().is_empty()
                    && self
                        .open_reply(&raw)
                        .and_then(|t| R::read(&t))
                        .is_ok_and(|(code, reply)| {
                            code.is_success()
                                || code.outcome_unknown()
                                || code == ResultCode::AreadyRevoked
                                || reply.state().is_some()
                                || reply.flow().is_some_and(|f| f.status.is_some())
                        })
                {
                    // A 4xx says "not carried out"; a reply of this operation in its body that
                    // says otherwise (success, a paid order, SERIAL_REPEAT) answers the request
                    // all the same. Which of the two holds cannot be told. (A refusal in it
                    // agrees with the status.)
                    Err(Error::decode(format!(
                        "HTTP {} (not carried out) came with a reply to the request in its body: it says two things, which proves neither",
                        raw.status
                    ))
                    .in_operation(call.operation))
                } else if raw.status != 200 {
                    Err(Error::HttpStatus {
                        operation: call.operation.to_owned(),
                        status: raw.status,
                    })
                } else {
                    let opened = self.open_reply(&raw);
                    let read = opened.as_deref().map_err(Clone::clone).and_then(R::read);
                    // Answered: read, or a gateway's document that says two things (a field
                    // given twice with two values), not something unreadable.
                    let answered = read.is_ok()
                        || opened.as_deref().is_ok_and(|t| {
                            let t = t.to_ascii_uppercase();
                            t.contains("\"RESULT\"") || t.contains("<RESULT>")
                        });
                    call.answered.store(answered, Ordering::Relaxed);
                    match read.and_then(|read| about_this_order(call, read)) {
                        Ok((code, reply)) => {
                            log.result_code = Some(code.as_wire().to_owned());
                            log.order_state = reply.state();
                            if code.is_success() || call.any_code {
                                Ok(reply)
                            } else if call.operation == "cancelTrade"
                                && code == ResultCode::AreadyRevoked
                            {
                                // The order is cancelled, which is what was asked: by an
                                // earlier attempt whose reply was lost, by an earlier call
                                // made again after an unknown outcome, or otherwise. The same
                                // answer whichever path led here.
                                Ok(reply)
                            } else {
                                Err(Error::gateway(code, reply.info(), call.operation))
                            }
                        }
                        Err(e) => Err(e.in_operation(call.operation)),
                    }
                }
            }
            Err(e) => Err(e.in_operation(call.operation)),
        };
        log.duration = started.elapsed();
        if let Err(e) = &outcome {
            log.error = Some(e.to_string());
        }
        if let Some(hook) = &self.inner.config.on_request {
            hook(&log);
        }
        outcome
    }

    /// The pause before attempt `attempt + 1` after `err`, or `None`: no retry (the call is
    /// not idempotent, the error not retryable, the attempts used up, or the pause would end
    /// past the call's time budget).
    fn retry_pause(&self, call: &Call, attempt: u32, err: &Error) -> Option<Duration> {
        let policy = if call.idempotent {
            self.inner.config.retry
        } else {
            RetryPolicy::none()
        };
        if attempt >= policy.max_attempts.max(1) || !err.is_retryable() {
            return None;
        }
        let pause = policy.delay_before(attempt + 1);
        if call.limit.is_some_and(|l| Instant::now() + pause >= l) {
            return None;
        }
        Some(pause)
    }

    /// The async driver of [`Client::execute`]: the same steps, with the transport driven by
    /// tokio, and tokio's timer.
    #[cfg(feature = "async")]
    async fn execute_async<R: Answer + Send + 'static>(&self, call: Call) -> Result<R> {
        if self.inner.proxied {
            let me = self.clone();
            let operation = call.operation;
            return tokio::task::spawn_blocking(move || me.execute(&call))
                .await
                .unwrap_or_else(|e| {
                    Err(Error::Transport {
                        operation: operation.to_owned(),
                        reason: format!("the blocking task failed: {e}"),
                        maybe_sent: true,
                    })
                });
        }
        let make = || crate::transport_async::Http::new(&self.inner.config);
        let http = match self.inner.http_async.get() {
            Some(h) => h.get(make)?,
            None => {
                let h = make()?;
                self.inner
                    .http_async
                    .get_or_init(|| PerProcess::new(h))
                    .get(make)?
            }
        };
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let timeout = attempt_timeout(&call, started)?;
            let sent = http.send(&call, timeout).await;
            match self.settle(&call, attempt, started, sent) {
                Err(e) => match self.retry_pause(&call, attempt, &e) {
                    Some(pause) => {
                        tokio::time::sleep(pause).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
                ok => return ok,
            }
        }
    }

    fn open_reply(&self, raw: &RawReply) -> Result<String> {
        if !self.inner.config.encrypt {
            return Ok(raw.text.clone());
        }
        // With 3DES on, every answer is 3DES: replies are not signed, so the encryption with
        // the merchant's key is what vouches for them. A plain document (which may start with
        // a byte order mark) is what anyone on the path could write, or a rejection the
        // gateway could not encrypt (an unknown merchant): never taken as the answer, and
        // quoted for diagnosis.
        let t = raw.text.trim();
        if crate::codec::looks_plain(t) {
            let quoted: String = t.chars().take(200).collect();
            let cut = if quoted.len() < t.len() { "..." } else { "" };
            return Err(Error::decode(format!(
                "an unencrypted reply to an encrypted request is not taken as the gateway's \
                 answer (only the merchant's key vouches for one; an unknown merchant gets \
                 one): {quoted}{cut}"
            )));
        }
        self.inner.envelope.decrypt_to_string(t)
    }

    fn send_once(&self, call: &Call, timeout: Duration) -> Result<RawReply> {
        if let Some(http) = &self.inner.http {
            let config = &self.inner.config;
            let tunnel = &self.inner.tunnel;
            let http =
                http.get(|| crate::http1::Transport::new(config, tunnel.clone()).map(Arc::new))?;
            return http.send(call, timeout);
        }
        let agent = self.inner.agent.get_or_make(|| agent(&self.inner.config));
        let result = match &call.method {
            Method::Get => agent
                .get(&call.url)
                .header("Content-Type", "text/xml;charset=UTF-8")
                .config()
                .timeout_global(Some(timeout))
                .build()
                .call(),
            Method::Post(body) => agent
                .post(&call.url)
                .header("Content-Type", "application/json;charset=UTF-8")
                .config()
                .timeout_global(Some(timeout))
                .max_idle_age(if call.idempotent {
                    MAX_IDLE
                } else {
                    MONEY_MAX_IDLE
                })
                .build()
                .send(body.as_str()),
        };
        let mut resp = result.map_err(|e| map_ureq_error(call, timeout, e))?;
        let status = resp.status().as_u16();
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(MAX_REPLY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                // `from`, not `Io(e)`: ureq's own timeout, carried in an io::Error, is unpacked.
                let err = ureq::Error::from(e);
                map_ureq_error(call, timeout, err)
            })?;
        if bytes.len() as u64 > MAX_REPLY_BYTES {
            return Err(Error::decode(format!(
                "the reply is larger than {MAX_REPLY_BYTES} bytes"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| Error::decode("the reply is not UTF-8"))?;
        Ok(RawReply { status, text })
    }
}

/// The time an attempt starting at `started` may take: the call's timeout, cut to what is
/// left of its time budget (none left: a timeout at once).
fn attempt_timeout(call: &Call, started: Instant) -> Result<Duration> {
    match call.limit {
        None => Ok(call.timeout),
        Some(limit) => {
            let left = limit.saturating_duration_since(started);
            if left.is_zero() {
                return Err(Error::Timeout {
                    operation: call.operation.to_owned(),
                    after_ms: 0,
                });
            }
            Ok(call.timeout.min(left))
        }
    }
}

/// A JSAPI order's reply must carry the pay parameters. Without them the page cannot pay, but
/// the order may exist at the gateway: an error of the `order` operation (`outcome_unknown`),
/// so that the caller queries before ordering again under that charge code.
fn jsapi_reply(reply: OrderReply) -> Result<OrderReply> {
    if reply.jsapi.is_none() {
        let code = reply.charge_code.as_deref().unwrap_or("this charge code");
        return Err(Error::Decode {
            reason: format!(
                "the JSAPI order reply has no appId/pay parameters: the order may exist at the gateway, so query {code} before ordering again"
            ),
            operation: "order".into(),
        });
    }
    Ok(reply)
}

/// A reply the client decodes: its result code and itself.
trait Answer: ReplyInfo + Sized {
    fn read(text: &str) -> Result<(ResultCode, Self)>;
}

impl<T: Reply> Answer for T {
    fn read(text: &str) -> Result<(ResultCode, Self)> {
        let reply = T::decode(text)?;
        Ok((reply.result().code.clone(), reply))
    }
}

impl Answer for FlowRechargeReply {
    fn read(text: &str) -> Result<(ResultCode, Self)> {
        let reply = FlowRechargeReply::decode(text)?;
        Ok((reply.result.code.clone(), reply))
    }
}

/// What the retry loop needs of a reply.
trait ReplyInfo {
    fn info(&self) -> String;
    fn state(&self) -> Option<String> {
        None
    }
    fn code(&self, _field: &str) -> Option<&str> {
        None
    }
    /// The order a reply to a call creating one shows.
    fn order(&self) -> Option<crate::models::OrderDetails> {
        None
    }
    /// The fen a refund reply shows refunded.
    fn refunded_fen(&self) -> Option<u128> {
        None
    }
    /// The top-up a top-up reply shows.
    fn flow(&self) -> Option<&crate::models::FlowOrder> {
        None
    }
}

impl<T: Reply> ReplyInfo for T {
    fn info(&self) -> String {
        self.result().info.clone()
    }
    fn state(&self) -> Option<String> {
        self.order_state().map(|s| s.as_wire().to_owned())
    }
    fn code(&self, field: &str) -> Option<&str> {
        self.order_code(field)
    }
    fn order(&self) -> Option<crate::models::OrderDetails> {
        self.order_details()
    }
    fn refunded_fen(&self) -> Option<u128> {
        Reply::refunded_fen(self)
    }
}

/// The query that proves a refund naming both numbers names one order (`None` when it names
/// one number).
fn one_order_query(req: &RefundRequest) -> Option<QueryRequest> {
    req.charge_code.as_ref()?;
    let down = req.charge_down_code.as_ref()?;
    Some(QueryRequest {
        code: down.clone(),
        ser_type: SerType::ChargeDownCode,
    })
}

/// A refund naming both numbers goes ahead only when the order the gateway would refund (the
/// one `charge_down_code` names, as `found` shows it) is `charge_code`'s. A failed query is
/// returned as it is: nothing was refunded.
fn one_order(req: &RefundRequest, found: Result<QueryReply>) -> Result<()> {
    let (Some(code), Some(down)) = (&req.charge_code, &req.charge_down_code) else {
        return Ok(());
    };
    let found = found?;
    // The answer must name the gateway's number too: one that does not may be about any order.
    if found.order.charge_down_code.as_deref().map(str::trim) != Some(down.trim()) {
        return Err(Error::validation(
            "charge_down_code",
            format!(
                "the gateway's answer about {down:?} does not show that number (CHARGE_DOWN_CODE), so that it names the order {code:?} cannot be checked: the gateway refunds the order charge_down_code names, so nothing was sent (give one of the two)"
            ),
        ));
    }
    match found.order.charge_code.as_deref() {
        Some(c) if c == code.trim() => Ok(()),
        shown => Err(Error::validation(
            "charge_down_code",
            match shown {
                Some(other) => format!(
                    "{down:?} is the gateway's number of the order with CHARGE_CODE {other:?}, not {code:?}: the gateway refunds the order charge_down_code names, so nothing was sent (give one of the two)"
                ),
                None => format!(
                    "the gateway's answer about {down:?} does not show its CHARGE_CODE, so that it names the order {code:?} cannot be checked: the gateway refunds the order charge_down_code names, so nothing was sent (give one of the two)"
                ),
            },
        )),
    }
}

/// The decoded reply, unless it names another order, refund or top-up than the one `call` is
/// about (another `CHARGE_CODE`, `CHARGE_DOWN_CODE` for a query or refund by it, `OUT_REFUND_NO`
/// for a refund, `phoneNo` for a top-up): a reply meant for another request says nothing about this
/// one (a `Decode` error: retried like a garbled reply where the call is idempotent; an unknown
/// outcome for a payment, a refund or a top-up).
fn about_this_order<R: ReplyInfo>(call: &Call, read: (ResultCode, R)) -> Result<(ResultCode, R)> {
    for (field, want) in &call.expect {
        let got = match *field {
            "flowVal" => read
                .1
                .flow()
                .and_then(|f| f.flow_val)
                .map(|v| v.to_string().into()),
            _ => read.1.code(field).map(std::borrow::Cow::Borrowed),
        };
        if let Some(got) = got.filter(|got| got.trim() != want) {
            let what = match *field {
                "OUT_REFUND_NO" => "refund",
                "phoneNo" | "flowVal" => "top-up",
                "BUSI_ID" => "order of the merchant",
                _ => "order",
            };
            return Err(Error::decode(format!(
                "the reply is about the {what} with {field} {got:?}, not {want:?} (an answer meant for another request)"
            )));
        }
    }
    // "No such order" beside the order's state says two things: an order there is (in that
    // state, paid perhaps) and none. Never "nothing was charged".
    if let (ResultCode::ChargeNonexistent, Some(state)) = (&read.0, read.1.state()) {
        return Err(Error::decode(format!(
            "the reply says there is no such order (CHARGE_NONEXISTENT) but shows it in STATE {state} ({}): it says two things, which proves neither",
            OrderState::from_wire(&state).name()
        )));
    }
    // A successful reply showing the order for another amount, customer, channel or
    // MERCHANTPARA: another payment's order (its charge code used before), or an answer meant
    // for another request. Never this order.
    if let (true, Some(expected)) = (read.0.is_success(), &call.expect_payment) {
        if let Some(why) = read.1.order().and_then(|o| expected.mismatch(&o)) {
            return Err(Error::decode(format!(
                "the reply shows another payment's order: {why} (or it is an answer meant for another request)"
            )));
        }
    }
    // A top-up accepted beside its flow shown failed (status 3), or refused beside it shown
    // under way or done (1, 2), says two things.
    let status = read.1.flow().and_then(|f| f.status.as_deref()).map(|s| {
        let s = s.trim().trim_start_matches('0');
        if s.is_empty() {
            "0"
        } else {
            s
        }
    });
    let two = match (read.0.is_success(), status) {
        (true, Some("3")) => Some("SUCCESS but shows the top-up failed (flow.status 3)"),
        (false, Some("1" | "2")) if !read.0.outcome_unknown() => {
            Some("it was refused but shows the top-up under way or done (flow.status 1 or 2)")
        }
        _ => None,
    };
    if let Some(two) = two {
        return Err(Error::decode(format!(
            "the top-up reply says {two}: it may or may not have been made"
        )));
    }
    // A cancel confirmed (done, or done before) beside the order in a state no cancel leaves it
    // in (paid, awaiting payment, refunded, ...) says two things: the payment may stand.
    if call.operation == "cancelTrade"
        && (read.0.is_success() || read.0 == ResultCode::AreadyRevoked)
    {
        if let Some(state) = read.1.state() {
            let shown = OrderState::from_wire(&state);
            if !matches!(
                shown,
                OrderState::Cancelled | OrderState::CancelApplied | OrderState::Closed
            ) {
                return Err(Error::decode(format!(
                    "the cancel reply says {} but shows the order in STATE {state} ({}), not cancelled (2), cancel applied for (3) or closed (6): the order may not have been cancelled",
                    read.0.as_wire(),
                    shown.name()
                )));
            }
        }
    }
    // A successful refund reply showing the order in a state no refund leaves it in (9 refund
    // failed, 8 still in progress, 1 paid, 0 never paid, ...) says two things: that the refund
    // was made, and that it was not (or not yet). Never "this refund done"; the refund may or
    // may not have been made, so its outcome is unknown (query the order before retrying).
    if let (true, Some(_), Some(state)) = (read.0.is_success(), call.expect_refund, read.1.state())
    {
        let shown = OrderState::from_wire(&state);
        if !matches!(shown, OrderState::PartiallyRefunded | OrderState::Refunded) {
            return Err(Error::decode(format!(
                "the refund reply says SUCCESS but shows the order in STATE {state} ({}), not partially refunded (4) or refunded (5): the refund may or may not have been made",
                shown.name()
            )));
        }
    }
    // A successful refund reply listing refunds that add up to another amount: the refund
    // made under this OUT_REFUND_NO before (for another amount: the gateway refunds once per
    // number, so this request's refund was not made), or an answer meant for another request.
    // Never "this refund done".
    if let (true, Some(want), Some(got)) = (
        read.0.is_success(),
        call.expect_refund,
        read.1.refunded_fen(),
    ) {
        if got != u128::from(want.fen()) {
            let shown = u64::try_from(got)
                .ok()
                .and_then(|f| Amount::from_fen(f).ok())
                .map_or_else(|| format!("{got} fen"), |a| a.to_yuan_string());
            return Err(Error::decode(format!(
                "the reply shows a refund of {shown} (FUND_BILL_LIST), not the {} asked: the refund made before under this OUT_REFUND_NO for another amount, or an answer meant for another request",
                want.to_yuan_string()
            )));
        }
    }
    Ok(read)
}

impl ReplyInfo for FlowRechargeReply {
    fn info(&self) -> String {
        self.result.info.clone()
    }
    fn flow(&self) -> Option<&crate::models::FlowOrder> {
        self.flow.as_ref()
    }
    fn code(&self, field: &str) -> Option<&str> {
        (field == "phoneNo")
            .then(|| self.flow.as_ref()?.phone_no.as_deref())
            .flatten()
    }
}

fn map_ureq_error(call: &Call, timeout: Duration, e: ureq::Error) -> Error {
    use std::io::ErrorKind;
    let transport = |reason: String, maybe_sent: bool| Error::Transport {
        operation: call.operation.to_owned(),
        reason,
        maybe_sent,
    };
    match e {
        ureq::Error::Timeout(t) => match t {
            ureq::Timeout::Connect | ureq::Timeout::Resolve => transport(
                format!("could not connect within the time allowed ({t})"),
                false,
            ),
            _ => Error::Timeout {
                operation: call.operation.to_owned(),
                after_ms: timeout.as_millis() as u64,
            },
        },
        ureq::Error::HostNotFound => transport(
            "the gateway's host name could not be resolved".into(),
            false,
        ),
        ureq::Error::ConnectionFailed => {
            transport("could not connect to the gateway".into(), false)
        }
        ureq::Error::Io(io) => {
            let tls = crate::tls::rustls_error(&io);
            let not_sent = matches!(
                io.kind(),
                ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable | ErrorKind::NotFound
            ) || tls.is_some_and(tls_handshake_error);
            if let Some(tls) = tls {
                let hint = crate::tls::refusal_hint(tls);
                return transport(format!("TLS error: {tls}{hint}"), !not_sent);
            }
            if io.kind() == ErrorKind::TimedOut || io.kind() == ErrorKind::WouldBlock {
                Error::Timeout {
                    operation: call.operation.to_owned(),
                    after_ms: timeout.as_millis() as u64,
                }
            } else {
                transport(format!("connection error: {io}"), !not_sent)
            }
        }
        ureq::Error::Tls(m) => transport(format!("TLS error: {m}"), false),
        // The proxy did not open the tunnel: nothing reached the gateway.
        ureq::Error::ConnectProxyFailed(m) => transport(
            format!("the proxy refused to connect to the gateway: {m}"),
            false,
        ),
        ureq::Error::Rustls(r) => {
            let hint = crate::tls::refusal_hint(&r);
            transport(format!("TLS error: {r}{hint}"), false)
        }
        ureq::Error::BadUri(u) => Error::validation("base_url", format!("not a usable URL: {u}")),
        ureq::Error::Http(h) => {
            Error::validation("base_url", format!("cannot build the request: {h}"))
        }
        ureq::Error::Protocol(p) => transport(
            format!("the gateway's reply broke the HTTP protocol: {p}"),
            true,
        ),
        ureq::Error::StatusCode(s) => Error::HttpStatus {
            operation: call.operation.to_owned(),
            status: s,
        },
        other => transport(other.to_string(), true),
    }
}

/// Whether a rustls error can only happen while setting up the connection (so nothing of
/// the request was sent): certificate rejections and handshake failures.
fn tls_handshake_error(e: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::PeerIncompatible(_)
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::UnsupportedNameType => true,
        rustls::Error::AlertReceived(a) => matches!(
            a,
            A::HandshakeFailure
                | A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::ProtocolVersion
                | A::InsufficientSecurity
                | A::UnrecognisedName
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn environment_names_are_the_same_for_every_runtime() {
        for (name, env) in [
            ("production", Environment::Production),
            ("PRODUCTION", Environment::Production),
            ("production-http", Environment::ProductionHttp),
            ("production_http", Environment::ProductionHttp),
            ("uat", Environment::Uat),
        ] {
            assert_eq!(
                Environment::parse(name, "environment").ok(),
                Some(env),
                "{name}"
            );
        }
        match Environment::parse("productionhttp", "environment") {
            Err(Error::Validation { field, reason }) => {
                assert_eq!(field, "environment");
                assert!(reason.contains("production-http"), "{reason}");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    use super::*;
    use crate::Amount;

    /// A notification URL no gateway could deliver to is refused before anything is sent: with
    /// a fragment (the signature appended after it never reaches the server), without a host,
    /// or on this machine while the gateway is elsewhere. The sandbox, on this machine, may
    /// call back to it.
    #[test]
    fn this_machine_is_known_in_every_spelling_and_no_other_host_is_taken_for_it() {
        use crate::models::is_loopback_host;
        for local in [
            "localhost",
            "localhost.",
            "a.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "127.1",
            "2130706433",
            "0x7f.1",
            "0X7F.0.0.1",
            "0177.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "0",
            "::",
        ] {
            assert!(is_loopback_host(local), "{local}");
        }
        for remote in [
            "shop.example",
            "1.2.3.4",
            "8.8.8.8",
            "128.0.0.1",
            "127.0.0.1.example.com",
            "localhost.example",
            "0x7g.0.0.1",
            "1.2.3.4.5",
            "256.0.0.1",
            "::ffff:8.8.8.8",
            "",
            "127.0.0.256x",
        ] {
            assert!(!is_loopback_host(remote), "{remote}");
        }
    }

    #[test]
    fn notification_urls_the_gateway_cannot_deliver_to_are_refused_before_sending() {
        let amount = Amount::from_fen(100).expect("amount");
        let client = |base: &str| {
            let mut c = ClientConfig::new("0010000001", "98SDKFUO432HNODS098EEE07U9DUOIUE", base)
                .expect("config");
            c.default_oper_id = Some("o".into());
            c.default_dev_id = Some("d".into());
            Client::new(c).expect("client")
        };
        let remote = client("https://gateway.invalid/openGateway/openService/");
        let local = client("http://127.0.0.1:9/openGateway/openService/");
        let order = |url: &str| {
            let mut o = OrderRequest::new("N-1", amount, crate::Channel::Wechat, "x");
            o.notify_url = Some(url.into());
            o
        };
        for (url, words) in [
            ("https://shop.example/notify#paid", "must not contain '#'"),
            ("https:///notify", "has no host"),
            (
                "http://localhost:8080/notify",
                "points at this machine (localhost)",
            ),
            (
                "http://127.0.0.1/notify?x=1",
                "points at this machine (127.0.0.1)",
            ),
            ("http://[::1]:80/n", "points at this machine (::1)"),
            ("http://shop.localhost/n", "points at this machine"),
            // The spellings a resolver takes for this machine too.
            ("http://localhost./n", "points at this machine"),
            ("http://127.1/n", "points at this machine"),
            ("http://2130706433/n", "points at this machine"),
            ("http://0x7f.0.0.1/n", "points at this machine"),
            ("http://0177.0.0.1/n", "points at this machine"),
            ("http://[::ffff:127.0.0.1]/n", "points at this machine"),
            ("http://0/n", "points at this machine"),
        ] {
            match remote.order_request(order(url)) {
                Err(Error::Validation { field, reason }) => {
                    assert_eq!(field, "notify_url", "{url}");
                    assert!(reason.contains(words), "{url}: {reason}");
                }
                other => panic!(
                    "{url}: expected a validation error, got {:?}",
                    other.map(|c| c.url)
                ),
            }
            let mut m = MicropayRequest::new("M-1", amount, "134567890123456789", "x");
            m.notify_url = Some(url.into());
            assert!(
                matches!(
                    remote.micropay_request(&m, Duration::from_secs(1), None, false),
                    Err(Error::Validation { .. })
                ),
                "micropay {url}"
            );
        }
        // A gateway on this machine (the sandbox) reaches a local URL; a public URL is fine anywhere.
        assert!(local
            .order_request(order("http://127.0.0.1:8080/notify"))
            .is_ok());
        assert!(remote
            .order_request(order("https://shop.example/notify?_type=json"))
            .is_ok());
        assert!(remote
            .order_request(order("https://10.0.0.5/notify"))
            .is_ok());
    }

    #[test]
    fn a_plain_reply_to_an_encrypted_request_is_refused() {
        let mut c = ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            "http://127.0.0.1:9/openGateway/openService/",
        )
        .expect("config");
        c.encrypt = true;
        let client = Client::new(c).expect("client");
        for text in [
            "\u{feff}{\"ORDER_RESP\":{}}",
            "\u{feff}<ORDER_RESP/>",
            " \u{feff} {}",
        ] {
            let raw = RawReply {
                status: 200,
                text: text.into(),
            };
            let e = client.open_reply(&raw).expect_err("plain");
            assert!(
                matches!(&e, Error::Decode { reason, .. } if reason.contains("unencrypted reply")),
                "{e}"
            );
        }
        // A plain success claiming a payment is refused the same way, and quoted (cut).
        let forged = format!(
            "{{\"QUERY_RESP\":{{\"RESULT\":{{\"CODE\":\"SUCCESS\"}},\"STATE\":1,\"X\":\"{}\"}}}}",
            "x".repeat(300)
        );
        let raw = RawReply {
            status: 200,
            text: forged,
        };
        let e = client.open_reply(&raw).expect_err("forged");
        assert!(
            e.to_string().contains("\"CODE\":\"SUCCESS\"") && e.to_string().ends_with("..."),
            "{e}"
        );
    }

    #[test]
    fn a_reply_naming_another_order_is_refused() {
        let call = |expect: Option<(&'static str, &str)>| Call {
            operation: "query",
            charge_code: None,
            url: String::new(),
            method: Method::Get,
            timeout: Duration::from_secs(1),
            idempotent: true,
            limit: None,
            any_code: false,
            expect: expect.into_iter().map(|(f, v)| (f, v.to_owned())).collect(),
            expect_payment: None,
            expect_refund: None,
            answered: AtomicBool::new(false),
        };
        let text = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"A-1","CHARGE_DOWN_CODE":"D-9","STATE":"1","AMT":"100"}}"#;
        let read = || QueryReply::read(text).expect("reply");
        for ok in [
            None,
            Some(("CHARGE_CODE", "A-1")),
            Some(("CHARGE_DOWN_CODE", "D-9")),
        ] {
            assert!(about_this_order(&call(ok), read()).is_ok(), "{ok:?}");
        }
        for (field, want) in [("CHARGE_CODE", "A-2"), ("CHARGE_DOWN_CODE", "D-1")] {
            match about_this_order(&call(Some((field, want))), read()) {
                Err(Error::Decode { reason, .. }) => {
                    assert!(reason.contains(field) && reason.contains(want), "{reason}")
                }
                other => panic!("{field}: {:?}", other.map(|r| r.0)),
            }
        }
        // Another merchant's order under the same charge code is not ours.
        let foreign = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"BUSI_ID":"0099999999","CHARGE_CODE":"A-1","STATE":"1","AMT":"100"}}"#;
        let read = QueryReply::read(foreign).expect("reply");
        match about_this_order(&call(Some(("BUSI_ID", "0010000001"))), read) {
            Err(Error::Decode { reason, .. }) => assert!(
                reason.contains("merchant with BUSI_ID \"0099999999\""),
                "{reason}"
            ),
            other => panic!("{:?}", other.map(|r| r.0)),
        }
        let ours = foreign.replace("0099999999", "0010000001");
        let read = QueryReply::read(&ours).expect("reply");
        assert!(about_this_order(&call(Some(("BUSI_ID", "0010000001"))), read).is_ok());
        // A reply that names no code is not refused for it.
        let bare = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"STATE":"1"}}"#;
        let read = QueryReply::read(bare).expect("reply");
        assert!(about_this_order(&call(Some(("CHARGE_CODE", "A-1"))), read).is_ok());
        // A refund reply names the refund too: another OUT_REFUND_NO is another refund's answer.
        let refund = r#"{"REFUND_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"A-1","OUT_REFUND_NO":"R-7","STATE":"5"}}"#;
        let read = || RefundReply::read(refund).expect("reply");
        let both = |no: &str| Call {
            expect: vec![("CHARGE_CODE", "A-1".into()), ("OUT_REFUND_NO", no.into())],
            ..call(None)
        };
        assert!(about_this_order(&both("R-7"), read()).is_ok());
        match about_this_order(&both("R-8"), read()) {
            Err(Error::Decode { reason, .. }) => {
                assert!(
                    reason.contains("the refund with OUT_REFUND_NO \"R-7\""),
                    "{reason}"
                )
            }
            other => panic!("{:?}", other.map(|r| r.0)),
        }
        // A successful refund reply whose FUND_BILL_LIST adds up to another amount than the
        // request's is another refund's answer (the number used before for another amount);
        // one that lists nothing proves nothing either way, and a refusal is left to its code.
        let refund = |code: &str, bills: &str| {
            let t = format!(
                r#"{{"REFUND_RESP":{{"RESULT":{{"CODE":"{code}","INFO":"x"}},"OUT_REFUND_NO":"R-7"{bills}}}}}"#
            );
            RefundReply::read(&t).expect("reply")
        };
        let split = r#","FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"3.00"},{"FUND_CHANNEL":"30","AMOUNT":"2.50"}]}"#;
        let refunding = |fen: u64| Call {
            expect: vec![("OUT_REFUND_NO", "R-7".into())],
            expect_refund: Some(Amount::from_fen(fen).expect("amount")),
            ..call(None)
        };
        assert!(about_this_order(&refunding(550), refund("SUCCESS", split)).is_ok());
        assert!(about_this_order(&refunding(500), refund("SUCCESS", "")).is_ok());
        assert!(about_this_order(&refunding(500), refund("FAIL", split)).is_ok());
        match about_this_order(&refunding(500), refund("SUCCESS", split)) {
            Err(e @ Error::Decode { .. }) => {
                // As the request names it (settle does): a refund's outcome is unknown.
                let e = e.in_operation("refund");
                assert!(e.outcome_unknown(), "{e}");
                let reason = e.to_string();
                assert!(
                    reason.contains("a refund of 5.50") && reason.contains("not the 5.00 asked"),
                    "{reason}"
                )
            }
            other => panic!("{:?}", other.map(|r| r.0)),
        }
        // A successful order reply showing another amount is another payment's order; a
        // refusal (whose fields may be the other order's) is left to its code.
        let order = |code: &str| {
            let t = format!(
                r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"{code}","INFO":"x"}},"CHARGE_CODE":"A-1","AMT":100}}}}"#
            );
            OrderReply::read(&t).expect("reply")
        };
        let expecting = |fen: u64| Call {
            expect_payment: Some(Box::new(crate::flows::Expected::of(
                &crate::models::MicropayRequest::new(
                    "A-1",
                    Amount::from_fen(fen).expect("amount"),
                    "130730865806264036",
                    "x",
                ),
            ))),
            ..call(Some(("CHARGE_CODE", "A-1")))
        };
        assert!(about_this_order(&expecting(100), order("SUCCESS")).is_ok());
        match about_this_order(&expecting(1000), order("SUCCESS")) {
            Err(Error::Decode { reason, .. }) => {
                assert!(
                    reason.contains("another payment of 1.00 yuan (this one is 10.00 yuan)"),
                    "{reason}"
                )
            }
            other => panic!("{:?}", other.map(|r| r.0)),
        }
        assert!(about_this_order(&expecting(1000), order("SERIAL_REPEAT")).is_ok());
        // The same amount, another customer's code (a masked code that fits is not another's);
        // a QR order for another MERCHANTPARA: another payment's order too (its channel is not
        // compared).
        let shown = |extra: &str| {
            let t = format!(
                r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"x"}},"CHARGE_CODE":"A-1","AMT":100{extra}}}}}"#
            );
            OrderReply::read(&t).expect("reply")
        };
        for (extra, refused) in [
            (r#","DYNAMIC_ID":"130730865806264036""#, false),
            (r#","DYNAMIC_ID":"1307**********4036""#, false),
            (r#","DYNAMIC_ID":"289999999999999999""#, true),
        ] {
            let got = about_this_order(&expecting(100), shown(extra));
            match (refused, got) {
                (false, Ok(_)) => {}
                (true, Err(Error::Decode { reason, .. })) => {
                    assert!(reason.contains("another customer's code"), "{reason}")
                }
                (_, other) => panic!("{extra}: {:?}", other.map(|r| r.0)),
            }
        }
        let mut qr = crate::models::OrderRequest::new(
            "A-1",
            Amount::from_fen(100).expect("amount"),
            crate::Channel::Wechat,
            "x",
        );
        qr.merchant_para = Some("mine".into());
        let ordering = Call {
            expect_payment: Some(Box::new(crate::flows::Expected::of_order(&qr))),
            ..call(Some(("CHARGE_CODE", "A-1")))
        };
        for (extra, refused) in [
            (r#","CHANNEL_TYPE":"2","MERCHANTPARA":"mine""#, false),
            (r#","CHANNEL_TYPE":"1""#, false),
            (r#","MERCHANTPARA":"theirs""#, true),
        ] {
            let got = about_this_order(&ordering, shown(extra));
            assert_eq!(got.is_err(), refused, "{extra}");
        }
    }

    fn options() -> ClientOptions {
        ClientOptions {
            busi_code: "0010000001".into(),
            key: "98SDKFUO432HNODS098EEE07U9DUOIUE".into(),
            environment: Some("uat".into()),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn unset_options_take_the_configs_defaults_and_errors_name_the_option() {
        let c = options().into_config().expect("defaults");
        let d = ClientConfig::for_environment(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            Environment::Uat,
        )
        .expect("config");
        assert_eq!(
            (c.connect_timeout, c.timeout, c.micropay_timeout, c.retry),
            (d.connect_timeout, d.timeout, d.micropay_timeout, d.retry)
        );
        assert_eq!(
            (c.max_idle_connections, c.encrypt, c.format),
            (32, false, Format::Json)
        );
        let set = ClientOptions {
            encrypt: Some(true),
            format: Some("XML".into()),
            timeout: Some(Duration::from_secs(3)),
            retry_max_attempts: Some(1),
            max_idle_connections: Some(4),
            default_dev_id: Some("till-1".into()),
            ..options()
        }
        .into_config()
        .expect("set");
        assert_eq!(
            (set.encrypt, set.format, set.timeout, set.retry.max_attempts),
            (true, Format::Xml, Duration::from_secs(3), 1)
        );
        assert_eq!(
            (set.max_idle_connections, set.default_dev_id.as_deref()),
            (4, Some("till-1"))
        );
        for (bad, field, says) in [
            (
                ClientOptions {
                    retry_max_attempts: Some(0),
                    ..options()
                },
                "retry_max_attempts",
                "between 1 and",
            ),
            (
                ClientOptions {
                    retry_base_delay: Some(Duration::from_secs(5)),
                    ..options()
                },
                "retry_base_delay",
                "at most retry_max_delay",
            ),
            (
                ClientOptions {
                    timeout: Some(Duration::ZERO),
                    ..options()
                },
                "timeout",
                "between 1 ms",
            ),
            (
                ClientOptions {
                    micropay_timeout: Some(Duration::from_micros(400)),
                    ..options()
                },
                "micropay_timeout",
                "between 1 ms",
            ),
            (
                ClientOptions {
                    format: Some("csv".into()),
                    ..options()
                },
                "format",
                "json or xml",
            ),
            (
                ClientOptions {
                    max_idle_connections: Some(0),
                    ..options()
                },
                "max_idle_connections",
                "1 and 1024",
            ),
        ] {
            match bad.into_config() {
                Err(Error::Validation { field: f, reason }) => {
                    assert_eq!(f, field);
                    assert!(reason.contains(says), "{field}: {reason}");
                }
                other => panic!("{field}: expected a validation error, got {other:?}"),
            }
        }
        assert!(
            !format!("{:?}", options()).contains("98SDK"),
            "the key is never printed"
        );
    }

    #[test]
    fn a_target_is_a_base_url_or_an_environment_and_a_format_json_or_xml() {
        let key = "98SDKFUO432HNODS098EEE07U9DUOIUE";
        let uat = ClientConfig::for_target("0010000001", key, None, Some("UAT")).expect("uat");
        assert_eq!(uat.base_url, Environment::Uat.base_url());
        let url = ClientConfig::for_target("0010000001", key, Some("http://h/x".into()), None);
        assert_eq!(url.expect("url").base_url, "http://h/x/");
        for (base, env, field) in [
            (None, None, "base_url"),
            (Some("http://h/".to_owned()), Some("uat"), "base_url"),
            (None, Some("mars"), "environment"),
        ] {
            let e = ClientConfig::for_target("0010000001", key, base, env).expect_err("refused");
            assert!(
                matches!(e, Error::Validation { field: ref f, .. } if f == field),
                "{e}"
            );
        }
        assert_eq!(parse_format(None, "format").expect("default"), Format::Json);
        assert_eq!(
            parse_format(Some("XML"), "format").expect("xml"),
            Format::Xml
        );
        let e = parse_format(Some("yaml"), "fmt").expect_err("refused");
        assert!(matches!(e, Error::Validation { ref field, .. } if field == "fmt"));
    }

    #[test]
    fn config_debug_hides_key() {
        let c = ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            "http://127.0.0.1:1/openGateway/openService",
        )
        .expect("config");
        assert!(c.base_url.ends_with('/'));
        let d = format!("{c:?}");
        assert!(!d.contains("98SDK"), "{d}");
        let client = Client::new(c).expect("client");
        assert!(!format!("{client:?}").contains("98SDK"));
    }

    #[test]
    fn bad_config_is_rejected() {
        assert!(ClientConfig::new("0010000001", "", "http://x/").is_err());
        assert!(ClientConfig::new("00/1", "k", "http://x/").is_err());
        assert!(ClientConfig::new("001", "k", "ftp://x/").is_err());
    }

    #[test]
    fn a_jsapi_reply_without_pay_parameters_is_an_unknown_outcome_of_the_order() {
        let e = jsapi_reply(OrderReply::success_about("J-9")).expect_err("no pay parameters");
        assert!(e.outcome_unknown(), "{e:?}");
        match e {
            Error::Decode { reason, operation } => {
                assert_eq!(operation, "order");
                assert!(
                    reason.contains("query J-9 before ordering again"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_base_url_has_a_host_and_no_credentials() {
        let reason = |url: &str| match ClientConfig::new("001", "k", url) {
            Err(Error::Validation { field, reason }) if field == "base_url" => reason,
            other => panic!("{url}: {other:?}"),
        };
        // A password in the URL would be printed wherever the URL is (Debug, logs).
        for url in [
            "http://user:secret@gw.example/",
            "https://u@gw.example:8443/x/",
        ] {
            let r = reason(url);
            assert!(r.contains("credentials") && !r.contains("secret"), "{r}");
        }
        for url in ["http://", "http:///openService/", "https://:443/"] {
            assert_eq!(reason(url), "has no host");
        }
        // An @ in the path is not an authority's.
        assert!(ClientConfig::new("001", "k", "http://gw.example/a@b/").is_ok());
        // A port is 1 to 65535 (refused when the client is built, not at its first call).
        for url in [
            "http://127.0.0.1:99999/x/",
            "http://gw.example:0/",
            "http://[::1]:70000/",
            "http://h:x/",
        ] {
            assert!(reason(url).contains("a port is 1 to 65535"), "{url}");
        }
        for url in [
            "http://127.0.0.1:8080/x/",
            "http://[::1]:8080/",
            "http://[::1]/",
            "http://h:/",
        ] {
            assert!(ClientConfig::new("001", "k", url).is_ok(), "{url}");
        }
        // A base URL changed after `new` must still end with '/' (the operation is appended).
        let mut c = ClientConfig::new("001", "k", "http://gw.example/openGateway/openService/")
            .expect("config");
        c.base_url = "http://gw.example/openGateway/openService".into();
        match c.validate() {
            Err(Error::Validation { field, reason }) => {
                assert_eq!(field, "base_url");
                assert!(reason.contains("must end with '/'"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connection_refused_is_not_sent() {
        // Port 1 on loopback: nothing listens.
        let c = ClientConfig::new(
            "0010000001",
            "k",
            "http://127.0.0.1:1/openGateway/openService/",
        )
        .expect("config");
        let client = Client::new(c).expect("client");
        let mut req = MicropayRequest::new(
            "C1",
            crate::Amount::parse_yuan("0.01").expect("amt"),
            "130730865806264036",
            "x",
        );
        req.oper_id = "o".into();
        req.dev_id = "d".into();
        let e = client.micropay(&req).expect_err("refused");
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
        assert!(!e.outcome_unknown());
    }

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Client>();
        assert_send_sync::<ClientConfig>();
        assert_send_sync::<crate::NotificationVerifier>();
    }

    #[test]
    fn backoff_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        for n in 2..10 {
            assert!(p.delay_before(n) <= Duration::from_millis(300));
        }
    }

    /// A client for tests that build calls without sending them.
    fn offline_client() -> Client {
        let mut c = ClientConfig::new(
            "0010000001",
            "98SDKFUO432HNODS098EEE07U9DUOIUE",
            "http://127.0.0.1:9/openGateway/openService/",
        )
        .expect("config");
        c.default_oper_id = Some("o".into());
        c.default_dev_id = Some("d".into());
        Client::new(c).expect("client")
    }

    /// `about_this_order` for the call `refund_request` makes of `req`, on reply `text`, as
    /// `settle` reports it (in the refund operation).
    fn judge_refund(req: &RefundRequest, text: &str) -> Result<RefundReply> {
        let call = offline_client().refund_request(req).expect("call");
        RefundReply::read(text)
            .and_then(|read| about_this_order(&call, read))
            .map(|(_, r)| r)
            .map_err(|e| e.in_operation(call.operation))
    }

    fn refund_of_500(code: &str) -> RefundRequest {
        RefundRequest::new(code, "R-1", Amount::from_fen(500).expect("amount"), "s")
    }

    fn refund_reply(fields: &str) -> String {
        format!(
            r#"{{"REFUND_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"FUND_BILL_LIST":{{"TRADEFUNDBILL":[{{"FUND_CHANNEL":"10","AMOUNT":"5.00"}}]}}{fields}}}}}"#
        )
    }

    #[test]
    fn a_code_given_as_several_values_never_passes_for_a_missing_one() {
        // An XML element repeated (or a JSON array, or an object) where the reply names its
        // order: not "names none" (which is not compared), but not this order either.
        let req = refund_of_500("C-1");
        let xml = "<REFUND_RESP><RESULT><CODE>SUCCESS</CODE><INFO>ok</INFO></RESULT>\
            <CHARGE_CODE>OTHER</CHARGE_CODE><CHARGE_CODE>OTHER-2</CHARGE_CODE>\
            <FUND_BILL_LIST><TRADEFUNDBILL><FUND_CHANNEL>10</FUND_CHANNEL><AMOUNT>5.00</AMOUNT>\
            </TRADEFUNDBILL></FUND_BILL_LIST></REFUND_RESP>";
        for text in [
            xml.to_owned(),
            xml.replace("OTHER-2", "C-1"),
            refund_reply(r#","CHARGE_CODE":["C-1","C-9"]"#),
            refund_reply(r#","CHARGE_CODE":{"X":"C-1"}"#),
            refund_reply(r#","OUT_REFUND_NO":["R-1","R-2"]"#),
        ] {
            match judge_refund(&req, &text) {
                Err(e @ Error::Decode { .. }) => assert!(e.outcome_unknown(), "{text}: {e}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        // The same code given twice is that code.
        let same = xml.replace("OTHER-2", "C-1").replace(">OTHER<", ">C-1<");
        let reply = judge_refund(&req, &same).expect("the same code twice");
        assert_eq!(reply.charge_code.as_deref(), Some("C-1"));
        let reply = judge_refund(&req, &refund_reply(r#","CHARGE_CODE":["C-1"]"#)).expect("[C-1]");
        assert_eq!(reply.charge_code.as_deref(), Some("C-1"));
    }

    #[test]
    fn an_amount_or_a_compared_text_given_as_several_values_never_passes_for_a_missing_one() {
        // An amount given twice (an XML element repeated, a JSON array, an object) read as "no
        // amount", which is not compared: a QR code was handed back from a reply also stating
        // 999.00 yuan. Now two different values are refused; the same value twice holds.
        let xml = |amt: &str| {
            format!(
                "<ORDER_RESP><RESULT><CODE>SUCCESS</CODE><INFO>ok</INFO></RESULT>\
                 <CHARGE_CODE>A-1</CHARGE_CODE>{amt}<BAR_CODE>weixin://x</BAR_CODE></ORDER_RESP>"
            )
        };
        let json = |amt: &str| {
            format!(
                r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"A-1","AMT":{amt},"BAR_CODE":"weixin://x"}}}}"#
            )
        };
        for text in [
            xml("<AMT>1250</AMT><AMT>99900</AMT>"),
            json(r#"["1250","99900"]"#),
            json(r#"{"v":"99900"}"#),
        ] {
            match OrderReply::read(&text) {
                Err(Error::Decode { reason, .. }) => {
                    assert!(reason.contains("AMT is given more than once"), "{reason}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        for text in [
            xml("<AMT>1250</AMT><AMT>1250</AMT>"),
            json(r#"["1250"]"#),
            json("1250"),
        ] {
            let r = OrderReply::read(&text).expect("one amount");
            assert_eq!(r.1.amount.map(|a| a.fen()), Some(1250), "{text}");
        }
        let query = r#"<QUERY_RESP><RESULT><CODE>SUCCESS</CODE></RESULT><CHARGE_CODE>A-1</CHARGE_CODE>
            <STATE>1</STATE><AMT>1250</AMT><realAMT>12.50</realAMT><realAMT>0.01</realAMT></QUERY_RESP>"#;
        assert!(
            matches!(QueryReply::read(query), Err(Error::Decode { .. })),
            "realAMT twice"
        );
        // The till flow's customer code and a QR order's MERCHANTPARA, given as two values,
        // are not "not shown" either: they are not this payment's.
        let call = |expected: crate::flows::Expected| Call {
            operation: "micropay",
            charge_code: None,
            url: String::new(),
            method: Method::Get,
            timeout: Duration::from_secs(1),
            idempotent: false,
            limit: None,
            any_code: false,
            expect: vec![("CHARGE_CODE", "A-1".to_owned())],
            expect_payment: Some(Box::new(expected)),
            expect_refund: None,
            answered: AtomicBool::new(false),
        };
        let micropay = crate::models::MicropayRequest::new(
            "A-1",
            Amount::from_fen(1250).expect("amount"),
            "130730865806264036",
            "x",
        );
        let mut qr = crate::models::OrderRequest::new(
            "A-1",
            Amount::from_fen(1250).expect("amount"),
            crate::Channel::Wechat,
            "x",
        );
        qr.merchant_para = Some("mine".into());
        for (expected, fields) in [
            (
                crate::flows::Expected::of(&micropay),
                "<DYNAMIC_ID>130730865806264036</DYNAMIC_ID><DYNAMIC_ID>289999999999999999</DYNAMIC_ID>",
            ),
            (
                crate::flows::Expected::of_order(&qr),
                "<MERCHANTPARA>mine</MERCHANTPARA><MERCHANTPARA>theirs</MERCHANTPARA>",
            ),
        ] {
            let reply = OrderReply::read(&xml(&format!("<AMT>1250</AMT>{fields}"))).expect("reply");
            assert!(
                about_this_order(&call(expected), reply).is_err(),
                "{fields}"
            );
        }
        // The channel a micropay fixed, shown twice.
        let mut wechat = micropay.clone();
        wechat.channel = crate::Channel::Wechat;
        let reply = OrderReply::read(&xml(
            "<AMT>1250</AMT><CHANNEL_TYPE>1</CHANNEL_TYPE><CHANNEL_TYPE>2</CHANNEL_TYPE>",
        ))
        .expect("reply");
        assert!(about_this_order(&call(crate::flows::Expected::of(&wechat)), reply).is_err());
        // A top-up's phone given twice is not "no phone shown"; its count twice is refused once.
        let topup = |flow: &str| {
            crate::models::FlowRechargeReply::decode(&format!(
                r#"{{"result":{{"CODE":"SUCCESS","INFO":"ok"}},"flow":{{{flow}}}}}"#
            ))
        };
        let read =
            topup(r#""phoneNo":["13800000000","13999999999"],"flowVal":"10""#).expect("reply");
        assert_eq!(
            read.flow.and_then(|f| f.phone_no).as_deref(),
            Some("(not one value)")
        );
        match topup(r#""phoneNo":"13800000000","flowVal":["10","20"]"#) {
            Err(e) => {
                let text = e.to_string();
                assert_eq!(text.matches("could not decode").count(), 1, "{text}");
                assert!(text.contains("flowVal is given more than once"), "{text}");
            }
            Ok(r) => panic!("{r:?}"),
        }
        // A goods item's quantity given twice with one value is that value.
        let goods = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"CHARGE_CODE":"A-1","STATE":"1","AMT":"1250","GOODS_DETAIL":[{"GOOD_ID":"g","GOOD_PRICE":"12.50","GOOD_QUANTITY":["2","2"]}]}}"#;
        let (_, r) = QueryReply::read(goods).expect("reply");
        assert_eq!(r.order.goods.first().map(|g| g.quantity), Some(2));
        let same = "<DYNAMIC_ID>130730865806264036</DYNAMIC_ID><DYNAMIC_ID>130730865806264036</DYNAMIC_ID>";
        let reply = OrderReply::read(&xml(&format!("<AMT>1250</AMT>{same}"))).expect("reply");
        assert!(about_this_order(&call(crate::flows::Expected::of(&micropay)), reply).is_ok());
    }

    #[test]
    fn a_successful_refund_reply_must_show_the_order_refunded_if_it_shows_a_state() {
        let req = refund_of_500("C-1");
        // Refunded, partially refunded, or no state at all: the refund done.
        for ok in [
            r#","CHARGE_CODE":"C-1","STATE":"5""#,
            r#","CHARGE_CODE":"C-1","STATE":4"#,
            r#","CHARGE_CODE":"C-1""#,
            r#","STATE":"""#,
            "",
        ] {
            let reply = judge_refund(&req, &refund_reply(ok)).expect(ok);
            assert!(reply.result.code.is_success());
        }
        // Any other state says the refund was not made (or not yet): never "done", and not a
        // definite refusal either. Query before retrying.
        for (state, name) in [
            ("9", "RefundFailed"),
            ("8", "RefundInProgress"),
            ("1", "Paid"),
            ("0", "AwaitingPayment"),
            ("2", "Cancelled"),
            ("6", "Closed"),
            ("77", "Unknown"),
        ] {
            let text = refund_reply(&format!(r#","CHARGE_CODE":"C-1","STATE":"{state}""#));
            match judge_refund(&req, &text) {
                Err(e @ Error::Decode { .. }) => {
                    assert!(e.outcome_unknown(), "{state}: {e}");
                    let reason = e.to_string();
                    assert!(
                        reason.contains(&format!("STATE {state} ({name})")),
                        "{state}: {reason}"
                    );
                }
                other => panic!("STATE {state}: {other:?}"),
            }
        }
        // A STATE that is not a scalar is not a refunded state either.
        let listed = refund_reply(r#","STATE":["5","9"]"#);
        let e = judge_refund(&req, &listed).expect_err("a list");
        assert!(e.outcome_unknown(), "{e}");
        // The rule is for successful replies: a refusal is left to its code (and the request's
        // code check), whatever state it shows.
        let refused = r#"{"REFUND_RESP":{"RESULT":{"CODE":"FAIL","INFO":"no"},"CHARGE_CODE":"C-1","STATE":"1"}}"#;
        let reply = judge_refund(&req, refused).expect("left to the result code");
        assert_eq!(reply.state, Some(OrderState::Paid));
    }

    #[test]
    fn a_refund_by_the_gateways_number_refuses_a_reply_about_another_order() {
        let mut by_down = refund_of_500("unused");
        by_down.charge_code = None;
        by_down.charge_down_code = Some("D-1".into());
        // Another CHARGE_DOWN_CODE is another order's answer, whatever CHARGE_CODE it shows.
        for fields in [
            r#","CHARGE_CODE":"OTHER","CHARGE_DOWN_CODE":"D-2""#,
            r#","CHARGE_DOWN_CODE":"D-2""#,
            r#","charge_down_code":"D-2","OUT_REFUND_NO":"R-1""#,
        ] {
            match judge_refund(&by_down, &refund_reply(fields)) {
                Err(e @ Error::Decode { .. }) => {
                    assert!(e.outcome_unknown(), "{e}");
                    assert!(
                        e.to_string()
                            .contains(r#"the order with CHARGE_DOWN_CODE "D-2", not "D-1""#),
                        "{e}"
                    );
                }
                other => panic!("{fields}: {other:?}"),
            }
        }
        // Its own number (or none shown) is this order's answer; the number is read and kept.
        let ours = judge_refund(
            &by_down,
            &refund_reply(r#","CHARGE_CODE":"C-9","CHARGE_DOWN_CODE":" D-1 ""#),
        )
        .expect("ours");
        assert_eq!(ours.charge_down_code.as_deref(), Some("D-1"));
        assert!(judge_refund(&by_down, &refund_reply("")).is_ok());
        // Named by both numbers: either one naming another order refuses the reply.
        let mut by_both = by_down.clone();
        by_both.charge_code = Some("C-1".into());
        assert!(judge_refund(
            &by_both,
            &refund_reply(r#","CHARGE_CODE":"C-1","CHARGE_DOWN_CODE":"D-1""#)
        )
        .is_ok());
        for fields in [
            r#","CHARGE_CODE":"C-1","CHARGE_DOWN_CODE":"D-2""#,
            r#","CHARGE_CODE":"C-2","CHARGE_DOWN_CODE":"D-1""#,
        ] {
            let e = judge_refund(&by_both, &refund_reply(fields)).expect_err(fields);
            assert!(e.outcome_unknown(), "{fields}: {e}");
        }
        // By the merchant's number only, the gateway's number is not compared (the request
        // does not know it).
        assert!(judge_refund(
            &refund_of_500("C-1"),
            &refund_reply(r#","CHARGE_CODE":"C-1","CHARGE_DOWN_CODE":"D-7""#)
        )
        .is_ok());
    }
}
