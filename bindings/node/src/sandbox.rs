//! `NativeSandbox`: the sandbox gateway (`sosopay-sandbox`) in-process, behind the cargo feature
//! `sandbox` (on in the published package). `sosopay/testing` (node/testing.js) wraps it; nothing
//! runs until one is constructed (then a background thread with its own tokio runtime serves on
//! a local port), so `require('sosopay')` costs nothing more.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use napi::bindgen_prelude::{spawn_blocking, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use serde_json::{json, Value};
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig, SandboxError};

/// Marks an admin refusal; node/testing.js turns it into a `SandboxError`.
const PREFIX: &str = "[sosopay-sandbox]";

fn refusal(status: u16, reason: &str) -> napi::Error {
    napi::Error::from_reason(format!(
        "{PREFIX}{}",
        json!({ "status": status, "reason": reason })
    ))
}

fn sandbox_err(e: SandboxError) -> napi::Error {
    match e {
        SandboxError::Admin { status, reason } => refusal(status, &reason),
        SandboxError::Config { .. } | SandboxError::Bind { .. } => refusal(400, &e.to_string()),
        other => refusal(500, &other.to_string()),
    }
}

fn parse_rules(rules: &[String]) -> napi::Result<Vec<FaultRule>> {
    rules
        .iter()
        .map(|r| {
            r.parse::<FaultRule>()
                .map_err(|e| refusal(400, &format!("fault rule {r:?}: {e}")))
        })
        .collect()
}

fn seed_of(seed: f64) -> napi::Result<u64> {
    if seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= 9_007_199_254_740_991.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(seed as u64)
    } else {
        Err(refusal(
            400,
            &format!("seed {seed} must be a whole number ≥ 0"),
        ))
    }
}

/// A merchant the sandbox accepts.
#[napi(object)]
pub struct SandboxMerchant {
    /// `BUSI_ID`.
    pub busi_id: String,
    /// Its key.
    pub key: String,
}

/// How to start a sandbox (every field optional).
#[napi(object)]
pub struct NativeSandboxOptions {
    /// Multiplies every gateway time (0.01: the 80 s micropay hold lasts 0.8 s). Default 1.
    pub time_scale: Option<f64>,
    /// Seed of the fault injection. Default 0.
    pub seed: Option<f64>,
    /// Fault rules `op:kind:prob[:param]` in force from the start.
    pub faults: Option<Vec<String>>,
    /// Registered merchants. Default: the document's test merchant.
    pub merchants: Option<Vec<SandboxMerchant>>,
    /// IP address to listen on. Default `127.0.0.1`.
    pub host: Option<String>,
    /// Port (0: any free port). Default 0.
    pub port: Option<u16>,
    /// Reject requests signed further than this from now (`INVALID_SIGN`). Default off.
    pub max_request_age_ms: Option<f64>,
}

/// The fault rules in force and the seed.
#[napi(object)]
pub struct SandboxFaults {
    /// The rules as `op:kind:prob[:param]`.
    pub rules: Vec<String>,
    /// The seed.
    pub seed: f64,
}

/// A running sandbox gateway (use `startSandbox` from `sosopay/testing`).
#[napi]
pub struct NativeSandbox {
    inner: Mutex<Option<Sandbox>>,
    base_url: String,
    root_url: String,
}

impl NativeSandbox {
    fn with<T>(&self, f: impl FnOnce(&Sandbox) -> T) -> napi::Result<T> {
        let g = self
            .inner
            .lock()
            .map_err(|_| refusal(500, "poisoned lock"))?;
        g.as_ref()
            .map(f)
            .ok_or_else(|| refusal(410, "the sandbox is closed"))
    }
}

#[napi]
impl NativeSandbox {
    /// Starts serving at once on a background thread.
    #[napi(constructor)]
    pub fn new(options: Option<NativeSandboxOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or(NativeSandboxOptions {
            time_scale: None,
            seed: None,
            faults: None,
            merchants: None,
            host: None,
            port: None,
            max_request_age_ms: None,
        });
        let host = o.host.as_deref().unwrap_or("127.0.0.1");
        let ip: IpAddr = host
            .parse()
            .map_err(|_| refusal(400, &format!("host {host:?} is not an IP address")))?;
        let max_request_age = match o.max_request_age_ms {
            None => None,
            Some(ms) if ms.is_finite() && ms > 0.0 => Some(Duration::from_secs_f64(ms / 1000.0)),
            Some(ms) => {
                return Err(refusal(
                    400,
                    &format!("maxRequestAgeMs {ms} must be a number above 0"),
                ))
            }
        };
        let mut config = SandboxConfig {
            addr: SocketAddr::new(ip, o.port.unwrap_or(0)),
            seed: seed_of(o.seed.unwrap_or(0.0))?,
            time_scale: o.time_scale.unwrap_or(1.0),
            faults: parse_rules(o.faults.as_deref().unwrap_or(&[]))?,
            max_request_age,
            ..SandboxConfig::default()
        };
        if let Some(ms) = o.merchants.filter(|m| !m.is_empty()) {
            config.merchants = ms.into_iter().map(|m| (m.busi_id, m.key)).collect();
        }
        let sb = Sandbox::start(config).map_err(sandbox_err)?;
        Ok(NativeSandbox {
            base_url: sb.base_url(),
            root_url: sb.root_url(),
            inner: Mutex::new(Some(sb)),
        })
    }

    /// `http://127.0.0.1:PORT/openGateway/openService/`.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// `http://127.0.0.1:PORT/`.
    #[napi(getter)]
    pub fn root_url(&self) -> String {
        self.root_url.clone()
    }

    /// Whether `close` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.lock().map(|g| g.is_none()).unwrap_or(true)
    }

    /// The ledger (as `GET /_sandbox/ledger`).
    #[napi]
    pub fn ledger(&self) -> napi::Result<Value> {
        self.with(Sandbox::ledger_json)
    }

    /// One order (ledger form), or `null`.
    #[napi]
    pub fn order(&self, charge_code: String) -> napi::Result<Option<Value>> {
        Ok(self.with(|s| s.order(&charge_code))?.map(|o| o.to_json()))
    }

    /// The customer pays an order awaiting payment; returns the order.
    #[napi]
    pub fn pay(&self, charge_code: String) -> napi::Result<Value> {
        self.with(|s| s.pay(&charge_code))?
            .map(|o| o.to_json())
            .map_err(sandbox_err)
    }

    /// The payment of an order awaiting payment fails (STATE 6); returns the order.
    #[napi]
    pub fn fail(&self, charge_code: String) -> napi::Result<Value> {
        self.with(|s| s.fail(&charge_code))?
            .map(|o| o.to_json())
            .map_err(sandbox_err)
    }

    /// Replaces the fault rules (and the seed, if given).
    #[napi]
    pub fn set_faults(&self, rules: Vec<String>, seed: Option<f64>) -> napi::Result<()> {
        let rules = parse_rules(&rules)?;
        let seed = seed.map(seed_of).transpose()?;
        self.with(|s| match seed {
            Some(seed) => s.set_faults_with_seed(rules, seed),
            None => s.set_faults(rules),
        })
    }

    /// The rules in force and the seed.
    #[napi]
    pub fn faults(&self) -> napi::Result<SandboxFaults> {
        let (rules, seed) = self.with(Sandbox::faults)?;
        let rules = rules.iter().map(FaultRule::to_string).collect();
        #[allow(clippy::cast_precision_loss)]
        let seed = seed as f64;
        Ok(SandboxFaults { rules, seed })
    }

    /// Forgets every order, refund, notification and fault count.
    #[napi]
    pub fn reset(&self) -> napi::Result<()> {
        self.with(Sandbox::reset)
    }

    /// Registers (or re-keys) a merchant.
    #[napi]
    pub fn add_merchant(&self, busi_id: String, key: String) -> napi::Result<()> {
        self.with(|s| s.add_merchant(&busi_id, &key))?
            .map_err(sandbox_err)
    }

    /// Stops serving; resolves once the background thread ended (idempotent).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let sb = self.inner.lock().ok().and_then(|mut g| g.take());
        env.spawn_future(async move {
            if let Some(sb) = sb {
                spawn_blocking(move || sb.shutdown()).await.map_err(|e| {
                    napi::Error::from_reason(format!("the sandbox did not stop cleanly: {e}"))
                })?;
            }
            Ok(())
        })
    }
}

impl Drop for NativeSandbox {
    fn drop(&mut self) {
        // Collected without `close()`: stop serving on another thread, never blocking the JS one.
        if let Ok(mut g) = self.inner.lock() {
            if let Some(sb) = g.take() {
                let _ = std::thread::Builder::new()
                    .name("sosopay-sandbox-stop".into())
                    .spawn(move || sb.shutdown());
            }
        }
    }
}

/// A test payment code (the sandbox's `codes::code_from_parts`); the message names the argument
/// at fault (`sosopay/testing` throws it as a `RangeError`).
#[napi(js_name = "testCode")]
pub fn test_code(behaviour: f64, seconds: f64, channel: String) -> napi::Result<String> {
    let whole = |field: &str, n: f64| {
        if n.fract() == 0.0 && n.abs() < 1e15 {
            Ok(n as i64)
        } else {
            Err(napi::Error::from_reason(format!(
                "{field}: {n} is not a whole number"
            )))
        }
    };
    sosopay_sandbox::codes::code_from_parts(
        whole("behaviour", behaviour)?,
        whole("seconds", seconds)?,
        &channel,
    )
    .map_err(|(field, reason)| napi::Error::from_reason(format!("{field}: {reason}")))
}
