//! What every language's testing kit needs from a sandbox, defined once: the starting options as
//! a user gives them (text and numbers, validated here, each error naming the setting), a handle
//! that can be closed through a shared reference (every later call answers
//! [`SandboxError::Closed`]), fault rules as text, and the waits for notifications and order
//! states (so no kit polls the ledger itself). Python's `sosopay.testing`, Node's
//! `sosopay/testing` and the Kotlin/Swift `SandboxGateway` are thin conversions of this.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use sosopay::units::TimeUnit;
use sosopay::OrderState;

use crate::{
    config_err, FaultRule, Ledger, LedgerOrder, NotificationAttempt, Sandbox, SandboxConfig,
    SandboxError,
};

/// How often a wait looks at the ledger.
const POLL: Duration = Duration::from_millis(5);

/// The cashier a testing kit's client sends (`OPER_ID`) unless told otherwise.
pub const CLIENT_OPER_ID: &str = "cashier-1";
/// The till a testing kit's client sends (`DEV_ID`) unless told otherwise.
pub const CLIENT_DEV_ID: &str = "till-1";

/// How to start a sandbox, as the testing kits take it. `Default` is the document's test
/// merchant at the gateway's real durations on a free local port.
#[derive(Debug, Clone, PartialEq)]
pub struct KitOptions {
    /// Multiplies every gateway duration (the 80 s micropay hold, the test codes' delays,
    /// notification retries): `0.01` makes 80 s take 0.8 s. Above 0; default 1.
    pub time_scale: f64,
    /// The seed of the fault draws (the same seed and requests give the same faults). Default 0.
    pub seed: u64,
    /// Fault rules in force from the start, `op:kind:probability[:param]` (docs/SANDBOX.md).
    /// Default none.
    pub faults: Vec<String>,
    /// The merchants (`BUSI_ID` and key); none (the default): the document's test merchant.
    pub merchants: Vec<(String, String)>,
    /// The IP address to listen on. Default `127.0.0.1`.
    pub host: String,
    /// The port; 0 (the default) picks a free one.
    pub port: u16,
    /// Rejects requests whose signature timestamp is further than this from the sandbox's clock
    /// (the gateway's replay window). Default: no check.
    pub max_request_age: Option<f64>,
}

impl Default for KitOptions {
    fn default() -> Self {
        let d = SandboxConfig::default();
        KitOptions {
            time_scale: d.time_scale,
            seed: d.seed,
            faults: Vec::new(),
            merchants: Vec::new(),
            host: d.addr.ip().to_string(),
            port: d.addr.port(),
            max_request_age: None,
        }
    }
}

/// How long a kit's wait (for notifications, for an order's state) lasts unless told otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A wait's timeout given in `unit`, checked by the core's rule for every duration
/// (`sosopay::units::duration`), or [`DEFAULT_WAIT`] when not given; the error names `field` as
/// the caller spells it.
pub fn timeout(field: &str, value: Option<f64>, unit: TimeUnit) -> Result<Duration, SandboxError> {
    let Some(value) = value else {
        return Ok(DEFAULT_WAIT);
    };
    sosopay::units::duration(field, value, unit).map_err(|e| match e {
        sosopay::Error::Validation { field, reason } => config_err(&field, reason),
        other => config_err(field, other.to_string()),
    })
}

/// Parses fault rules; the error names the rule by its index (`faults[1]`).
pub fn parse_faults(rules: &[String]) -> Result<Vec<FaultRule>, SandboxError> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.parse::<FaultRule>()
                .map_err(|e| config_err(&format!("faults[{i}]"), format!("{r:?}: {e}")))
        })
        .collect()
}

impl KitOptions {
    /// The [`SandboxConfig`] these options describe; [`SandboxError::Config`] names the
    /// first setting at fault (`host`, `time_scale`, `max_request_age`, `faults[i]`,
    /// `merchants[i]`).
    pub fn to_config(&self) -> Result<SandboxConfig, SandboxError> {
        let ip: IpAddr = self
            .host
            .parse()
            .map_err(|_| config_err("host", format!("{:?} is not an IP address", self.host)))?;
        let max_request_age = match self.max_request_age {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 && s < 1.0e9 => Some(Duration::from_secs_f64(s)),
            Some(_) => return Err(config_err("max_request_age", "must be a duration above 0")),
        };
        let mut config = SandboxConfig {
            addr: SocketAddr::new(ip, self.port),
            seed: self.seed,
            time_scale: self.time_scale,
            faults: parse_faults(&self.faults)?,
            max_request_age,
            ..SandboxConfig::default()
        };
        if !self.merchants.is_empty() {
            config.merchants = self.merchants.clone();
        }
        config.validate()?;
        Ok(config)
    }
}

/// A running sandbox that a binding can share, close from any reference, and wait on from
/// another thread. Dropping it without [`close`](SandboxHandle::close) stops the sandbox on a
/// thread of its own, so a garbage collector's thread never waits.
#[derive(Debug)]
pub struct SandboxHandle {
    inner: Mutex<Option<Sandbox>>,
    base_url: String,
    root_url: String,
    time_scale: f64,
    /// The merchants registered through this handle, `(BUSI_ID, key)`: those it started with
    /// (the document's test merchant by default) first, then those added.
    merchants: Mutex<Vec<(String, String)>>,
}

impl SandboxHandle {
    /// Validates the options and starts serving on a background thread.
    pub fn start(options: &KitOptions) -> Result<SandboxHandle, SandboxError> {
        let config = options.to_config()?;
        let merchants = Mutex::new(config.merchants.clone());
        let sb = Sandbox::start(config)?;
        Ok(SandboxHandle {
            base_url: sb.base_url(),
            root_url: sb.root_url(),
            time_scale: sb.time_scale(),
            inner: Mutex::new(Some(sb)),
            merchants,
        })
    }

    /// The merchant a kit's client uses unless told otherwise, `(BUSI_ID, key)`: the first the
    /// sandbox started with (the document's test merchant unless `merchants` was given).
    pub fn merchant(&self) -> (String, String) {
        let m = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        m.first()
            .cloned()
            .unwrap_or_else(|| (crate::TEST_BUSI_ID.to_owned(), crate::TEST_KEY.to_owned()))
    }

    /// The key of a merchant registered at start or with `add_merchant`, if there is one. A
    /// closed sandbox says so (the kits' `client()` asks for the key: a client for a closed
    /// sandbox would only fail at its first request, with "connection refused").
    pub fn key_of(&self, busi_id: &str) -> Result<Option<String>, SandboxError> {
        self.with(|_| ())?;
        let m = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        Ok(m.iter().find(|(b, _)| b == busi_id).map(|(_, k)| k.clone()))
    }

    fn with<T>(&self, f: impl FnOnce(&Sandbox) -> T) -> Result<T, SandboxError> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().map(f).ok_or(SandboxError::Closed)
    }

    /// `http://127.0.0.1:PORT/openGateway/openService/`: the clients' base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:PORT/`: the admin endpoints (`_sandbox/...`) and `flowRecharge`.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// The multiplier of every gateway duration it runs at.
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    /// The gateway's micropay hold at its time scale: 80 s × `time_scale` (0.8 s at 0.01), the
    /// core's default `gateway_hold` scaled.
    pub fn micropay_hold(&self) -> Duration {
        crate::micropay_hold(self.time_scale)
    }

    /// The `gateway_hold` a client's flows should use against this sandbox (the Python and
    /// Node kits' clients default to it; Kotlin and Swift give it to `WaitOptions`): its
    /// micropay hold, 80 s × `time_scale` (0.8 s at 0.01), plus the longest `late` fault in
    /// force (a late request is carried out after that wall-time wait, however long ago the
    /// client gave up on it: a shorter hold could settle a payment that then goes through as
    /// `FAILED`). Ask again after changing the faults. Once closed: the micropay hold alone.
    pub fn gateway_hold(&self) -> Duration {
        self.with(Sandbox::gateway_hold)
            .unwrap_or_else(|_| self.micropay_hold())
    }

    /// Whether it was closed.
    pub fn is_closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// Stops serving and waits for its thread (idempotent).
    pub fn close(&self) {
        if let Some(sb) = self.take() {
            sb.shutdown();
        }
    }

    /// Takes the sandbox out (the handle is closed from now on), for a binding that stops
    /// it on a thread of its choosing.
    pub fn take(&self) -> Option<Sandbox> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Everything that happened: orders, refunds, notification attempts, top-ups, faults.
    pub fn ledger(&self) -> Result<Ledger, SandboxError> {
        self.with(Sandbox::ledger)
    }

    /// Everything that happened: orders, refunds, notification attempts, top-ups, faults (the
    /// ledger, as `GET /_sandbox/ledger` answers it).
    pub fn ledger_json(&self) -> Result<serde_json::Value, SandboxError> {
        self.with(Sandbox::ledger_json)
    }

    /// The payment notifications sent so far, one record per delivery attempt.
    pub fn notifications(&self) -> Result<Vec<NotificationAttempt>, SandboxError> {
        self.with(Sandbox::notifications)
    }

    /// One order as in the ledger, by charge code, if the gateway saw it (an error, 409, when
    /// several merchants used that charge code: give each merchant's orders their own codes).
    pub fn order(&self, charge_code: &str) -> Result<Option<LedgerOrder>, SandboxError> {
        self.with(|s| s.find_order(charge_code))?
    }

    /// The customer pays an order awaiting payment (a QR or JSAPI order, or a micropay whose
    /// customer is confirming); returns the order as in the ledger.
    pub fn pay(&self, charge_code: &str) -> Result<LedgerOrder, SandboxError> {
        self.with(|s| s.pay(charge_code))?
    }

    /// The payment of an order awaiting payment fails: it is closed (STATE 6); returns the order
    /// as in the ledger.
    pub fn fail(&self, charge_code: &str) -> Result<LedgerOrder, SandboxError> {
        self.with(|s| s.fail(charge_code))?
    }

    /// Forgets every order, refund, notification and fault count (merchants and rules stay).
    pub fn reset(&self) -> Result<(), SandboxError> {
        self.with(Sandbox::reset)
    }

    /// Registers (or re-keys) a merchant.
    pub fn add_merchant(&self, busi_id: &str, key: &str) -> Result<(), SandboxError> {
        self.with(|s| s.add_merchant(busi_id, key))??;
        let mut m = self.merchants.lock().unwrap_or_else(|e| e.into_inner());
        match m.iter_mut().find(|(b, _)| b == busi_id) {
            Some(entry) => entry.1 = key.to_owned(),
            None => m.push((busi_id.to_owned(), key.to_owned())),
        }
        Ok(())
    }

    /// The rules in force, as text, and the seed.
    pub fn faults(&self) -> Result<(Vec<String>, u64), SandboxError> {
        let (rules, seed) = self.with(Sandbox::faults)?;
        Ok((rules.iter().map(FaultRule::to_string).collect(), seed))
    }

    /// Replaces the rules (and the seed, if given); restarts the per-operation counts.
    pub fn set_faults(&self, rules: &[String], seed: Option<u64>) -> Result<(), SandboxError> {
        let rules = parse_faults(rules)?;
        self.with(|s| match seed {
            Some(seed) => s.set_faults_with_seed(rules, seed),
            None => s.set_faults(rules),
        })
    }

    /// Adds fault rules (`"preOrder:drop_reply:1"`, `"query:delay:0.5:2000"`, ...) to those in
    /// force (the seed stays).
    pub fn add_faults(&self, rules: &[String]) -> Result<(), SandboxError> {
        let added = parse_faults(rules)?;
        self.with(|s| {
            let (mut all, seed) = s.faults();
            all.extend(added);
            s.set_faults_with_seed(all, seed);
        })
    }

    /// Blocks until `count` notification attempts (for `charge_code`, if given) were accepted
    /// by the merchant (HTTP 200), or merely made when `accepted` is false; returns those
    /// attempts. [`SandboxError::Timeout`] lists what was seen.
    pub fn wait_for_notification(
        &self,
        charge_code: Option<&str>,
        count: u32,
        accepted: bool,
        timeout: Duration,
    ) -> Result<Vec<NotificationAttempt>, SandboxError> {
        let want = usize::try_from(count).unwrap_or(usize::MAX);
        let deadline = Instant::now() + timeout;
        loop {
            let seen: Vec<NotificationAttempt> = self
                .notifications()?
                .into_iter()
                .filter(|a| charge_code.is_none_or(|c| a.charge_code == c))
                .collect();
            let hits: Vec<NotificationAttempt> = seen
                .iter()
                .filter(|a| !accepted || a.accepted)
                .cloned()
                .collect();
            if hits.len() >= want {
                return Ok(hits);
            }
            if Instant::now() >= deadline {
                let attempts: Vec<String> = seen.iter().map(describe_attempt).collect();
                return Err(SandboxError::Timeout {
                    reason: format!(
                        "no {count} {}notification(s){} within {timeout:?}; attempts: [{}]",
                        if accepted { "accepted " } else { "" },
                        charge_code.map(|c| format!(" for {c}")).unwrap_or_default(),
                        attempts.join(", ")
                    ),
                    after_ms: timeout.as_millis().try_into().unwrap_or(u64::MAX),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Blocks until the order is in one of `states` (names such as `Paid`, or wire codes such
    /// as `"1"`); returns it. [`SandboxError::Timeout`] says where it is instead.
    pub fn wait_for_state(
        &self,
        charge_code: &str,
        states: &[String],
        timeout: Duration,
    ) -> Result<LedgerOrder, SandboxError> {
        if states.is_empty() {
            return Err(config_err("states", "give at least one state"));
        }
        let want = states
            .iter()
            .enumerate()
            .map(|(i, s)| match OrderState::from_name_or_wire(s) {
                OrderState::Unknown(_) => Err(config_err(
                    &format!("states[{i}]"),
                    format!("{s:?} is not an order state"),
                )),
                known => Ok(known),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let deadline = Instant::now() + timeout;
        loop {
            let order = match self.order(charge_code)? {
                Some(o) if o.state.is_some_and(|n| want.contains(&wire_state(n))) => return Ok(o),
                other => other,
            };
            if Instant::now() >= deadline {
                let names: Vec<&str> = want.iter().map(OrderState::name).collect();
                return Err(SandboxError::Timeout {
                    reason: format!(
                        "order {charge_code} not in {} within {timeout:?}: {}",
                        names.join("/"),
                        order.map_or_else(|| "no such order".to_owned(), |o| o.state_name)
                    ),
                    after_ms: timeout.as_millis().try_into().unwrap_or(u64::MAX),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

fn wire_state(code: u32) -> OrderState {
    OrderState::from_wire(&code.to_string())
}

fn describe_attempt(a: &NotificationAttempt) -> String {
    match (a.http_status, &a.error) {
        (Some(s), _) => format!("#{} HTTP {s}", a.attempt),
        (None, Some(e)) => format!("#{} {e}", a.attempt),
        (None, None) => format!("#{} no answer", a.attempt),
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(sb) = self.take() {
            let _ = std::thread::Builder::new()
                .name("sosopay-sandbox-stop".into())
                .spawn(move || sb.shutdown());
        }
    }
}
