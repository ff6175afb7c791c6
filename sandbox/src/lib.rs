//! # sosopay-sandbox
//!
//! A local, stateful emulator of the SouSou payment gateway, for tests and demos: every
//! operation of the protocol (micropay with the 80 s hold, QR and JSAPI orders, refunds,
//! queries, cancels, top-ups), the three signature forms, 3DES, JSON and XML; payment
//! notifications with retries; deterministic fault injection; and a ledger of everything that
//! happened, as the ground truth for reconciliation tests. See `docs/SANDBOX.md`.
//!
//! ```no_run
//! use sosopay_sandbox::{Sandbox, SandboxConfig};
//! let sb = Sandbox::start(SandboxConfig { time_scale: 0.01, ..Default::default() })?;
//! println!("gateway at {}", sb.base_url());
//! // ... drive it with a client; then:
//! let ledger = sb.ledger();
//! assert!(ledger.orders.iter().all(|o| o.amount_fen > 0));
//! # Ok::<(), sosopay_sandbox::SandboxError>(())
//! ```

#![deny(missing_docs)]

pub mod codes;
mod faults;
pub mod kit;
mod ledger;
mod notify;
mod server;
mod state;

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sosopay::{Envelope, MerchantKey};
use tokio::sync::watch;

pub use faults::{FaultKind, FaultRule, OmitField, Operation};
pub use kit::{KitOptions, SandboxHandle};
pub use ledger::{
    FaultLog, FaultRuleRecord, InjectedFault, Ledger, LedgerOrder, LedgerRefund,
    NotificationAttempt, TopUp,
};

use state::{Inner, Settings, Shared};

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("sosopay_sandbox");

// The Rust blocks of the docs are compiled (and run, unless `no_run`) as doc-tests here, so an
// example that stops compiling breaks the build (docs/CLIENT-API.md uses the sandbox too).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDocTests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/CLIENT-API.md")]
struct ClientApiDocTests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/SANDBOX.md")]
struct SandboxDocTests;

/// The document's test merchant.
pub const TEST_BUSI_ID: &str = "0010000001";
/// The document's test merchant's key.
pub const TEST_KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
/// Default cap on a request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default [`SandboxConfig::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything that can go wrong starting or driving a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The address could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A setting is invalid.
    #[error("invalid sandbox setting {field}: {reason}")]
    Config {
        /// The setting.
        field: String,
        /// Why.
        reason: String,
    },
    /// The runtime or another I/O resource failed.
    #[error("sandbox I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An admin action was refused (`status` as the admin endpoint would answer: 404 no such
    /// order, 409 wrong state).
    #[error("sandbox admin action refused ({status}): {reason}")]
    Admin {
        /// The HTTP status the admin endpoint answers.
        status: u16,
        /// Why.
        reason: String,
    },
    /// The sandbox was closed ([`kit::SandboxHandle::close`]).
    #[error("the sandbox is closed")]
    Closed,
    /// A wait ([`kit::SandboxHandle::wait_for_notification`], `wait_for_state`) ran out of
    /// time; `reason` says what was awaited and what was seen.
    #[error("{reason}")]
    Timeout {
        /// What was awaited, and what was seen instead.
        reason: String,
        /// How long it waited, in milliseconds.
        after_ms: u64,
    },
}

impl SandboxError {
    /// The HTTP status the admin API would answer for this error: 400 (a bad setting or
    /// argument), the admin refusal's own (404 no such order, 409 wrong state), 410 (closed),
    /// 408 (a wait timed out), 500 (I/O).
    pub fn status(&self) -> u16 {
        match self {
            SandboxError::Config { .. } => 400,
            SandboxError::Admin { status, .. } => *status,
            SandboxError::Closed => 410,
            SandboxError::Timeout { .. } => 408,
            SandboxError::Bind { .. } | SandboxError::Io(_) => 500,
        }
    }

    /// Why, without the status: the admin refusal's reason, or the whole message.
    pub fn reason(&self) -> String {
        match self {
            SandboxError::Admin { reason, .. } | SandboxError::Timeout { reason, .. } => {
                reason.clone()
            }
            other => other.to_string(),
        }
    }
}

fn config_err(field: &str, reason: impl Into<String>) -> SandboxError {
    SandboxError::Config {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// How to run a sandbox.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where to listen (`127.0.0.1:0`: any free port).
    pub addr: SocketAddr,
    /// Registered merchants: `(BUSI_ID, key)`. Empty means the document's test merchant.
    pub merchants: Vec<(String, String)>,
    /// Seed of the fault injection.
    pub seed: u64,
    /// Multiplies every gateway time: the 80 s micropay hold, the customer's delays in the
    /// test codes, `TIME_EXPIRE`, the 5 s notification interval (0.01 makes 80 s into 0.8 s).
    pub time_scale: f64,
    /// Fault rules in force at start.
    pub faults: Vec<FaultRule>,
    /// Reject requests whose signature timestamp is further than this from the sandbox's
    /// clock (`INVALID_SIGN`). Off (`None`) by default.
    pub max_request_age: Option<Duration>,
    /// Largest request body accepted (bigger: HTTP 413 with `ILLEGAL_PARAMETER`).
    pub max_body_bytes: usize,
    /// The longest a request body may take to arrive (wall time, not scaled): a slow-drip
    /// upload gets HTTP 408 and the connection is closed, so a test never hangs on it.
    /// Default 30 s.
    pub body_timeout: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            merchants: vec![(TEST_BUSI_ID.to_owned(), TEST_KEY.to_owned())],
            seed: 0,
            time_scale: 1.0,
            faults: Vec::new(),
            max_request_age: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl SandboxConfig {
    /// Checks the settings [`Sandbox::start`] needs: [`SandboxError::Config`] names the
    /// first one at fault.
    pub fn validate(&self) -> Result<(), SandboxError> {
        if !self.time_scale.is_finite() || self.time_scale <= 0.0 {
            return Err(config_err(
                "time_scale",
                format!("{} must be a number above 0", self.time_scale),
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(config_err("max_body_bytes", "must be above 0"));
        }
        if self.body_timeout.is_zero() {
            return Err(config_err("body_timeout", "must be above 0"));
        }
        Ok(())
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let merchants: Vec<String> = self
            .merchants
            .iter()
            .map(|(b, _)| format!("{b}:<key redacted>"))
            .collect();
        f.debug_struct("SandboxConfig")
            .field("addr", &self.addr)
            .field("merchants", &merchants)
            .field("seed", &self.seed)
            .field("time_scale", &self.time_scale)
            .field("faults", &self.faults)
            .field("max_request_age", &self.max_request_age)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("body_timeout", &self.body_timeout)
            .finish()
    }
}

/// A merchant's envelope; a bad `BUSI_ID` or key is a [`SandboxError::Config`] naming
/// `busi_code` or `key`, as the client's options do.
fn envelope_for(busi: &str, key: &str) -> Result<Envelope, SandboxError> {
    let invalid = |e: sosopay::Error| match e {
        sosopay::Error::Validation { field, reason } => config_err(&field, reason),
        other => config_err("merchant", other.to_string()),
    };
    sosopay::models::validate_code("busi_code", busi).map_err(invalid)?;
    let key = MerchantKey::new(key).map_err(invalid)?;
    Ok(Envelope::new(key))
}

pub(crate) fn register_merchant(
    shared: &Shared,
    busi: &str,
    key: &str,
) -> Result<(), SandboxError> {
    let env = envelope_for(busi, key)?;
    shared.lock().merchants.insert(busi.to_owned(), env);
    Ok(())
}

fn build_shared(
    config: &SandboxConfig,
    rt: tokio::runtime::Handle,
    root_url: String,
) -> Result<Arc<Shared>, SandboxError> {
    config.validate()?;
    let mut merchants = HashMap::new();
    let list: Vec<(String, String)> = if config.merchants.is_empty() {
        vec![(TEST_BUSI_ID.to_owned(), TEST_KEY.to_owned())]
    } else {
        config.merchants.clone()
    };
    for (b, k) in &list {
        // A setting's error names the setting, and the merchant's part in its reason.
        let env = envelope_for(b, k).map_err(|e| match e {
            SandboxError::Config { field, reason } => {
                config_err("merchants", format!("invalid {field}: {reason}"))
            }
            other => other,
        })?;
        merchants.insert(b.clone(), env);
    }
    let inner = Inner {
        merchants,
        faults: config.faults.clone(),
        seed: config.seed,
        ..Inner::default()
    };
    let (outbox, deliveries) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        settings: Settings {
            time_scale: config.time_scale,
            max_request_age: config.max_request_age,
            max_body_bytes: config.max_body_bytes,
            body_timeout: config.body_timeout,
        },
        inner: Mutex::new(inner),
        changed: tokio::sync::Notify::new(),
        rt,
        outbox,
        root_url,
    });
    notify::start_deliveries(&shared, deliveries);
    Ok(shared)
}

fn root_url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// The gateway's micropay hold at `time_scale`: the real gateway's hold (the core's default
/// [`sosopay::WaitOptions::gateway_hold`], 80 s) times `time_scale` (0.8 s at 0.01).
pub fn micropay_hold(time_scale: f64) -> Duration {
    let real = sosopay::WaitOptions::default().gateway_hold.as_secs_f64();
    // `time_scale` is checked (finite, above 0) when a sandbox starts; clamped all the same, as
    // every scaled duration of the sandbox is.
    Duration::from_secs_f64((real * time_scale).clamp(0.0, 1.0e9))
}

/// The `gateway_hold` ([`sosopay::WaitOptions::gateway_hold`]) a client's flows should use
/// against a sandbox running at `time_scale` with the fault rules `faults`: its micropay hold
/// ([`micropay_hold`]) plus the longest `late` fault among `faults`. A `late` request is carried
/// out after that wall-time (unscaled) wait, however long ago the client gave up on it, so a
/// flow that settled "no such order" as `FAILED` any sooner could report a payment that then
/// goes through as not charged. The testing kits' clients use it as their flows' default, and
/// `SandboxGateway.gatewayHoldMs()` gives it to Kotlin and Swift.
pub fn gateway_hold(time_scale: f64, faults: &[FaultRule]) -> Duration {
    let late = faults
        .iter()
        .filter_map(|r| match r.kind {
            FaultKind::Late { ms } => Some(Duration::from_millis(ms)),
            _ => None,
        })
        .max()
        .unwrap_or(Duration::ZERO);
    micropay_hold(time_scale).saturating_add(late)
}

/// A running sandbox on its own background thread and runtime. Shuts down on drop.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).finish()
    }
}

impl Sandbox {
    /// Binds `config.addr`, starts serving on a background thread and returns at once.
    pub fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let listener =
            std::net::TcpListener::bind(config.addr).map_err(|source| SandboxError::Bind {
                addr: config.addr,
                source,
            })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sosopay-sandbox")
            .enable_all()
            .build()?;
        let shared = build_shared(&config, rt.handle().clone(), root_url_of(addr))?;
        let (tx, rx) = watch::channel(false);
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sosopay-sandbox".into())
            .spawn(move || {
                rt.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => server::serve_loop(l, sh, rx).await,
                        Err(e) => eprintln!("sosopay-sandbox: cannot serve: {e}"),
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })?;
        Ok(Sandbox {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/openGateway/openService/`: the base URL for clients.
    pub fn base_url(&self) -> String {
        format!("{}openGateway/openService/", self.root_url())
    }

    /// `http://127.0.0.1:PORT/`: for the admin endpoints (`_sandbox/...`) and `flowRecharge`.
    pub fn root_url(&self) -> String {
        root_url_of(self.addr)
    }

    /// The ledger: every order, refund, notification attempt, top-up and injected fault.
    pub fn ledger(&self) -> Ledger {
        self.shared.ledger()
    }

    /// The ledger as JSON, as `GET /_sandbox/ledger` returns it.
    pub fn ledger_json(&self) -> serde_json::Value {
        self.shared.ledger().to_json()
    }

    /// The notification delivery attempts so far (the ledger's `notifications`).
    pub fn notifications(&self) -> Vec<NotificationAttempt> {
        self.shared.ledger().notifications
    }

    /// One order as in the ledger, by charge code (any merchant), if it exists (and is the
    /// only one: see [`Sandbox::find_order`]).
    pub fn order(&self, charge_code: &str) -> Option<LedgerOrder> {
        self.find_order(charge_code).ok().flatten()
    }

    /// One order as in the ledger, by charge code (any merchant): `None` when the gateway
    /// never saw it, an `Admin` error (409) when several merchants used that charge code (one
    /// cannot tell which is meant: the HTTP admin endpoints take `?busi_id=`).
    pub fn find_order(&self, charge_code: &str) -> Result<Option<LedgerOrder>, SandboxError> {
        let g = self.shared.lock();
        let mut hits = g.orders.iter().filter(|o| o.charge_code == charge_code);
        match (hits.next(), hits.next()) {
            (None, _) => Ok(None),
            (Some(o), None) => Ok(Some(o.record())),
            (Some(_), Some(_)) => Err(SandboxError::Admin {
                status: 409,
                reason: format!(
                    "charge code {charge_code} exists for several merchants: the kit finds an order by its charge code alone, so give each merchant's orders their own codes"
                ),
            }),
        }
    }

    /// The customer pays an order awaiting payment (as `POST /_sandbox/orders/{cc}/pay`);
    /// returns the order as in the ledger.
    pub fn pay(&self, charge_code: &str) -> Result<LedgerOrder, SandboxError> {
        server::admin_transition(&self.shared, None, charge_code, "pay")
            .map_err(|(status, reason)| SandboxError::Admin { status, reason })
    }

    /// The payment of an order awaiting payment fails: it is closed, STATE 6 (as
    /// `POST /_sandbox/orders/{cc}/fail`).
    pub fn fail(&self, charge_code: &str) -> Result<LedgerOrder, SandboxError> {
        server::admin_transition(&self.shared, None, charge_code, "fail")
            .map_err(|(status, reason)| SandboxError::Admin { status, reason })
    }

    /// The time scale the sandbox runs at (1.0: the gateway's real durations).
    pub fn time_scale(&self) -> f64 {
        self.shared.settings.time_scale
    }

    /// The gateway's micropay hold at this sandbox's time scale: [`micropay_hold`].
    pub fn micropay_hold(&self) -> Duration {
        micropay_hold(self.time_scale())
    }

    /// The `gateway_hold` a client's flows should use against this sandbox now:
    /// [`gateway_hold`] of its time scale and the fault rules in force.
    pub fn gateway_hold(&self) -> Duration {
        let g = self.shared.lock();
        gateway_hold(self.time_scale(), &g.faults)
    }

    /// The fault rules in force and the seed of their draws.
    pub fn faults(&self) -> (Vec<FaultRule>, u64) {
        let g = self.shared.lock();
        (g.faults.clone(), g.seed)
    }

    /// Replaces the fault rules (and restarts the per-operation request counts that the
    /// deterministic draws use), as `POST /_sandbox/faults`.
    pub fn set_faults(&self, faults: Vec<FaultRule>) {
        self.shared.lock().set_faults(faults, None);
    }

    /// Replaces the fault rules and the seed.
    pub fn set_faults_with_seed(&self, faults: Vec<FaultRule>, seed: u64) {
        self.shared.lock().set_faults(faults, Some(seed));
    }

    /// Forgets every order, refund, notification and fault count (merchants, rules and seed
    /// stay), as `POST /_sandbox/reset`.
    pub fn reset(&self) {
        self.shared.lock().reset();
        self.shared.changed.notify_waiters();
    }

    /// Registers (or re-keys) a merchant.
    pub fn add_merchant(&self, busi_id: &str, key: &str) -> Result<(), SandboxError> {
        register_merchant(&self.shared, busi_id, key)
    }

    /// Stops serving and waits for the background thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves on `listener` in the current runtime until the future is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: SandboxConfig,
) -> Result<(), SandboxError> {
    let addr = listener.local_addr()?;
    let shared = build_shared(
        &config,
        tokio::runtime::Handle::current(),
        root_url_of(addr),
    )?;
    let (_tx, rx) = watch::channel(false);
    server::serve_loop(listener, shared, rx).await;
    Ok(())
}

fn parse_merchant(s: &str) -> Result<(String, String), String> {
    let (b, k) = s
        .split_once(':')
        .ok_or_else(|| "expected BUSI_ID:KEY".to_owned())?;
    if b.is_empty() || k.is_empty() {
        return Err("expected BUSI_ID:KEY".into());
    }
    Ok((b.to_owned(), k.to_owned()))
}

/// Command-line options of `sosopay sandbox` / `sosopay-sandbox`.
#[derive(clap::Args, Clone)]
pub struct SandboxArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// A merchant as BUSI_ID:KEY (repeatable). Default: the document's test merchant
    /// 0010000001.
    #[arg(long = "merchant", value_name = "BUSI_ID:KEY", value_parser = parse_merchant)]
    pub merchants: Vec<(String, String)>,
    /// Seed of the fault injection.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Multiplies every gateway time (0.01: the 80 s micropay hold lasts 0.8 s).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// A fault rule OP:KIND:PROB[:PARAM] (repeatable), e.g. preOrder:drop_reply:0.3.
    // The comment is also the option's --help text, where `[:PARAM]` means "optional".
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long = "fault", value_name = "OP:KIND:PROB[:PARAM]", value_parser = clap::value_parser!(FaultRule))]
    pub faults: Vec<FaultRule>,
    /// Reject requests signed more than this many seconds away from now (off by default).
    #[arg(long, value_name = "SECONDS")]
    pub max_request_age: Option<u64>,
}

impl fmt::Debug for SandboxArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxArgs")
            .field("addr", &self.addr)
            .field(
                "merchants",
                &self
                    .merchants
                    .iter()
                    .map(|(b, _)| format!("{b}:<key redacted>"))
                    .collect::<Vec<_>>(),
            )
            .field("seed", &self.seed)
            .field("time_scale", &self.time_scale)
            .field("faults", &self.faults)
            .field("max_request_age", &self.max_request_age)
            .finish()
    }
}

impl SandboxArgs {
    /// The configuration these options describe.
    pub fn to_config(&self) -> SandboxConfig {
        SandboxConfig {
            addr: self.addr,
            merchants: if self.merchants.is_empty() {
                SandboxConfig::default().merchants
            } else {
                self.merchants.clone()
            },
            seed: self.seed,
            time_scale: self.time_scale,
            faults: self.faults.clone(),
            max_request_age: self.max_request_age.map(Duration::from_secs),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// Starts a sandbox, prints its base URL as the first line of stdout (flushed), then serves
/// until SIGINT or SIGTERM.
pub fn run(args: SandboxArgs) -> Result<(), SandboxError> {
    let config = args.to_config();
    let sandbox = Sandbox::start(config.clone())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sandbox.base_url())?;
        out.flush()?;
    }
    let merchants: Vec<&str> = config.merchants.iter().map(|(b, _)| b.as_str()).collect();
    eprintln!(
        "sosopay sandbox listening on {} (merchants: {}; time scale {}; seed {}; {} fault rule(s)); admin at {}_sandbox/ledger; Ctrl-C stops",
        sandbox.addr(),
        merchants.join(", "),
        config.time_scale,
        config.seed,
        config.faults.len(),
        sandbox.root_url()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    sandbox.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &[&str]) -> Vec<FaultRule> {
        text.iter().map(|r| r.parse().expect("a rule")).collect()
    }

    #[test]
    fn the_hold_is_the_cores_default_scaled() {
        let real = sosopay::WaitOptions::default().gateway_hold;
        assert_eq!(micropay_hold(1.0), real);
        assert_eq!(gateway_hold(1.0, &[]), real);
        assert_eq!(gateway_hold(0.5, &[]), real / 2);
        assert_eq!(gateway_hold(0.01, &[]), Duration::from_millis(800));
        // The sandbox emulates that same hold for an unpaid micropay.
        assert_eq!(
            Duration::from_secs_f64(state::MICROPAY_HOLD_SECS),
            real,
            "the sandbox's micropay hold and the core's default gateway_hold disagree"
        );
    }

    #[test]
    fn the_longest_late_fault_is_added_and_nothing_else() {
        let faults = rules(&[
            "preOrder:late:1:1500",
            "query:late:0.1:200",
            "preOrder:delay:1:9000",
            "cancelTrade:stale_reversal:1:7000",
            "query:lag:1:6000",
            "*:drop:0.2",
        ]);
        assert_eq!(gateway_hold(0.01, &faults), Duration::from_millis(2300));
        assert_eq!(
            gateway_hold(0.01, &rules(&["*:late:0.5"])),
            Duration::from_millis(1800),
            "late without a parameter: 1000 ms"
        );
        assert_eq!(
            gateway_hold(
                0.01,
                &rules(&["preOrder:delay:1:9000", "notify:delay:1:5000"])
            ),
            Duration::from_millis(800),
            "delay, lag and stale_reversal do not carry a request out later"
        );
        // Real timing: the late wait on top of the real 80 s.
        assert_eq!(
            gateway_hold(1.0, &rules(&["refund:late:1:250"])),
            Duration::from_millis(80_250)
        );
    }

    #[test]
    fn a_sandbox_gives_its_hold_and_follows_its_rules() {
        let sb = Sandbox::start(SandboxConfig {
            time_scale: 0.01,
            faults: rules(&["preOrder:late:1:1500"]),
            ..SandboxConfig::default()
        })
        .expect("starts");
        assert_eq!(sb.micropay_hold(), Duration::from_millis(800));
        assert_eq!(sb.gateway_hold(), Duration::from_millis(2300));
        sb.set_faults(rules(&["query:late:0.1:200", "preOrder:drop:1"]));
        assert_eq!(sb.gateway_hold(), Duration::from_millis(1000));
        sb.set_faults(Vec::new());
        assert_eq!(sb.gateway_hold(), Duration::from_millis(800));
        sb.shutdown();
    }
}
