//! The sosopay testing kit for Kotlin and Swift: `SandboxGateway`, the sandbox gateway
//! (`sosopay-sandbox`) running in-process on a local port, with its typed admin API.
//!
//! A separate library (`libsosopay_testing`) so that the app's own library does not carry the
//! sandbox: a POS app links it in its unit tests only. The ledger records and the test codes
//! are the sandbox crate's own types (derived with its `uniffi` feature); this crate only
//! wraps the `Sandbox` object and maps its errors.

uniffi::setup_scaffolding!("sosopay_testing");

use std::sync::Arc;

use sosopay_sandbox::codes::{self, Behaviour};
use sosopay_sandbox::kit::{self, KitOptions, SandboxHandle};
use sosopay_sandbox::{Ledger, LedgerOrder, NotificationAttempt, SandboxError};

/// Why a sandbox call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SandboxException {
    /// A setting or argument is invalid (`field` names it: `timeScale`, `faults[0]`, ...).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The setting or argument, as Kotlin spells it.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The sandbox refused an admin action, with the HTTP status its admin endpoint answers
    /// (404: no such order; 409: the order is not awaiting payment).
    #[error("sandbox: {reason} (HTTP {status})")]
    Refused {
        /// The admin endpoint's HTTP status.
        status: u16,
        /// Why.
        reason: String,
    },
    /// A wait (`waitForNotification`, `waitForState`) ran out of time; `reason` says what
    /// was awaited and what was seen instead.
    #[error("{reason}")]
    Timeout {
        /// What was awaited and what was seen.
        reason: String,
    },
    /// The sandbox could not start (the address is taken, ...) or is closed.
    #[error("sandbox: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
}

impl From<SandboxError> for SandboxException {
    fn from(e: SandboxError) -> Self {
        match e {
            SandboxError::Admin { status, reason } => SandboxException::Refused { status, reason },
            SandboxError::Config { field, reason } => SandboxException::Invalid {
                field: kotlin_name(&field),
                reason,
            },
            SandboxError::Timeout { reason, .. } => SandboxException::Timeout { reason },
            other => SandboxException::Unavailable {
                reason: other.to_string(),
            },
        }
    }
}

/// `time_scale` → `timeScale`: the sandbox's setting names as Kotlin and Swift spell them
/// (`RENAMED`, then the core's `camel_case`, as the SDK's own errors).
fn kotlin_name(name: &str) -> String {
    match RENAMED.iter().find(|(core, _)| *core == name) {
        Some((_, ours)) => (*ours).to_owned(),
        None => sosopay::error::camel_case(name),
    }
}

/// A merchant the sandbox knows: its `BUSI_ID` and 32-character key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TestMerchant {
    /// `BUSI_ID`.
    pub busi_id: String,
    /// The merchant's key.
    pub key: String,
}

// --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitSettings)
/// How to start a sandbox. Every field is optional: `SandboxOptions()` is the document's test
/// merchant at real gateway durations on a free local port (an unset field takes the sandbox
/// crate's default, `KitOptions::default`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SandboxOptions {
    /// Multiplies every gateway duration (the 80 s micropay hold, the test codes' delays,
    /// notification retries): `0.01` makes 80 s take 0.8 s. Above 0; default 1.
    #[uniffi(default = None)]
    pub time_scale: Option<f64>,
    /// The seed of the fault draws (the same seed and requests give the same faults). Default 0.
    #[uniffi(default = None)]
    pub seed: Option<u64>,
    /// Fault rules in force from the start, `op:kind:probability[:param]` (docs/SANDBOX.md).
    /// Default none.
    #[uniffi(default = [])]
    pub faults: Vec<String>,
    /// The merchants (`BUSI_ID` and key); none (the default): the document's test merchant.
    #[uniffi(default = [])]
    pub merchants: Vec<TestMerchant>,
    /// The IP address to listen on. Default `127.0.0.1`.
    #[uniffi(default = None)]
    pub host: Option<String>,
    /// The port; 0 (the default) picks a free one.
    #[uniffi(default = None)]
    pub port: Option<u16>,
    /// Rejects requests whose signature timestamp is further than this from the sandbox's clock
    /// (the gateway's replay window). Default: no check.
    ///
    /// Here: in seconds.
    #[uniffi(default = None)]
    pub max_request_age_seconds: Option<f64>,
}

impl SandboxOptions {
    /// The sandbox crate's options (unset: its defaults).
    fn into_kit(self) -> KitOptions {
        let (o, d) = (self, KitOptions::default());
        KitOptions {
            time_scale: o.time_scale.unwrap_or(d.time_scale),
            seed: o.seed.unwrap_or(d.seed),
            faults: o.faults,
            merchants: o
                .merchants
                .into_iter()
                .map(|m| (m.busi_id, m.key))
                .collect(),
            host: o.host.unwrap_or(d.host),
            port: o.port.unwrap_or(d.port),
            max_request_age: o.max_request_age_seconds,
        }
    }
}

/// The settings Kotlin and Swift spell otherwise, for the sandbox's errors.
const RENAMED: [(&str, &str); 2] = [
    ("time_scale", "timeScale"),
    ("max_request_age", "maxRequestAgeSeconds"),
];
// --- end of generated

/// A running sandbox gateway: a stateful emulator of the SouSou gateway on a local port,
/// served from a background thread. Point a `SosopayClient` at `baseUrl`, then drive the
/// customer's side (`pay`, `fail`, test codes), inject faults, and assert on the `ledger`.
/// Stop it when done: `shutdown()`, or `close()` / Kotlin's `use {}`.
#[derive(uniffi::Object)]
pub struct SandboxGateway(SandboxHandle);

#[uniffi::export]
impl SandboxGateway {
    /// Starts a sandbox on a local port; returns once it accepts connections.
    #[uniffi::constructor]
    pub fn start(options: SandboxOptions) -> Result<Arc<SandboxGateway>, SandboxException> {
        let options = options.into_kit();
        Ok(Arc::new(SandboxGateway(SandboxHandle::start(&options)?)))
    }

    // --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitMethods)
    /// `http://127.0.0.1:PORT/openGateway/openService/`: the clients' base URL.
    pub fn base_url(&self) -> String {
        self.0.base_url().to_owned()
    }

    /// `http://127.0.0.1:PORT/`: the admin endpoints (`_sandbox/...`) and `flowRecharge`.
    pub fn root_url(&self) -> String {
        self.0.root_url().to_owned()
    }

    /// The multiplier of every gateway duration it runs at.
    pub fn time_scale(&self) -> f64 {
        self.0.time_scale()
    }

    /// Everything that happened: orders, refunds, notification attempts, top-ups, faults.
    pub fn ledger(&self) -> Result<Ledger, SandboxException> {
        Ok(self.0.ledger()?)
    }

    /// The payment notifications sent so far, one record per delivery attempt.
    pub fn notifications(&self) -> Result<Vec<NotificationAttempt>, SandboxException> {
        Ok(self.0.notifications()?)
    }

    /// One order as in the ledger, by charge code, if the gateway saw it (an error, 409, when
    /// several merchants used that charge code: give each merchant's orders their own codes).
    pub fn order(&self, charge_code: String) -> Result<Option<LedgerOrder>, SandboxException> {
        Ok(self.0.order(&charge_code)?)
    }

    /// The customer pays an order awaiting payment (a QR or JSAPI order, or a micropay whose
    /// customer is confirming); returns the order as in the ledger.
    pub fn pay(&self, charge_code: String) -> Result<LedgerOrder, SandboxException> {
        Ok(self.0.pay(&charge_code)?)
    }

    /// The payment of an order awaiting payment fails: it is closed (STATE 6); returns the order
    /// as in the ledger.
    pub fn fail(&self, charge_code: String) -> Result<LedgerOrder, SandboxException> {
        Ok(self.0.fail(&charge_code)?)
    }

    /// Adds fault rules (`"preOrder:drop_reply:1"`, `"query:delay:0.5:2000"`, ...) to those in
    /// force (the seed stays).
    pub fn add_faults(&self, rules: Vec<String>) -> Result<(), SandboxException> {
        Ok(self.0.add_faults(&rules)?)
    }

    /// Forgets every order, refund, notification and fault count (merchants and rules stay).
    pub fn reset(&self) -> Result<(), SandboxException> {
        Ok(self.0.reset()?)
    }

    /// The `gatewayHold` a client's flows should use against this sandbox (the Python and
    /// Node kits' clients default to it; Kotlin and Swift give it to `WaitOptions`): its
    /// micropay hold, 80 s × `timeScale` (0.8 s at 0.01), plus the longest `late` fault in
    /// force (a late request is carried out after that wall-time wait, however long ago the
    /// client gave up on it: a shorter hold could settle a payment that then goes through as
    /// `FAILED`). Ask again after changing the faults. Once closed: the micropay hold alone.
    ///
    /// Here: in milliseconds, rounded up.
    pub fn gateway_hold_ms(&self) -> i64 {
        i64::try_from(self.0.gateway_hold().as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)
    }

    // --- end of generated

    /// Blocks until `count` notification attempts (for `chargeCode`, if given) were accepted
    /// by the merchant (HTTP 200), or merely made when `accepted` is false; returns those
    /// attempts. `Timeout` lists the attempts seen. `timeoutMs`: unset, the kit's default wait
    /// (5 s, the sandbox crate's `DEFAULT_WAIT`). (From a coroutine, call it on `Dispatchers.IO`.)
    #[uniffi::method(default(charge_code = None, count = 1, accepted = true, timeout_ms = None))]
    pub fn wait_for_notification(
        &self,
        charge_code: Option<String>,
        count: u32,
        accepted: bool,
        timeout_ms: Option<u64>,
    ) -> Result<Vec<NotificationAttempt>, SandboxException> {
        #[allow(clippy::cast_precision_loss)]
        let t = kit::timeout(
            "timeoutMs",
            timeout_ms.map(|ms| ms as f64),
            kit::TimeUnit::Milliseconds,
        )?;
        let c = charge_code.as_deref();
        Ok(self
            .0
            .wait_for_notification(c, count, accepted, t)
            .map_err(|e| match self.0.ledger() {
                // A timeout says why none came, when the ledger tells.
                Ok(l) => l.explain_notification_wait(c, e),
                Err(_) => e,
            })?)
    }

    /// Blocks until the order is in one of `states` (names such as `"Paid"` or wire codes
    /// such as `"1"`); returns it. `Timeout` says where it is instead. `timeoutMs` as for
    /// `waitForNotification`.
    #[uniffi::method(default(timeout_ms = None))]
    pub fn wait_for_state(
        &self,
        charge_code: String,
        states: Vec<String>,
        timeout_ms: Option<u64>,
    ) -> Result<LedgerOrder, SandboxException> {
        #[allow(clippy::cast_precision_loss)]
        let t = kit::timeout(
            "timeoutMs",
            timeout_ms.map(|ms| ms as f64),
            kit::TimeUnit::Milliseconds,
        )?;
        Ok(self.0.wait_for_state(&charge_code, &states, t)?)
    }

    /// Replaces the fault rules, and the seed of their draws if given.
    pub fn set_faults(
        &self,
        rules: Vec<String>,
        seed: Option<u64>,
    ) -> Result<(), SandboxException> {
        Ok(self.0.set_faults(&rules, seed)?)
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) -> Result<(), SandboxException> {
        Ok(self.0.set_faults(&[], None)?)
    }

    /// The fault rules in force, in their text form.
    pub fn faults(&self) -> Result<Vec<String>, SandboxException> {
        Ok(self.0.faults()?.0)
    }

    /// Registers (or re-keys) a merchant.
    pub fn add_merchant(&self, merchant: TestMerchant) -> Result<(), SandboxException> {
        // An error names the record's field: `merchant.busiId` or `merchant.key`.
        self.0
            .add_merchant(&merchant.busi_id, &merchant.key)
            .map_err(|e| match e {
                SandboxError::Config { field, reason } => SandboxException::Invalid {
                    field: format!("merchant.{}", if field == "key" { "key" } else { "busiId" }),
                    reason,
                },
                other => other.into(),
            })
    }

    /// Stops the sandbox and waits for its thread; later calls fail with `Unavailable`.
    /// Stopping twice does nothing. (Kotlin's `close()` / `use {}` and Swift's release also
    /// stop it, when the last reference goes.)
    pub fn shutdown(&self) {
        self.0.close();
    }

    /// Whether `shutdown()` was called.
    pub fn is_shut_down(&self) -> bool {
        self.0.is_closed()
    }
}

impl Drop for SandboxGateway {
    /// Kotlin's `close()` and Swift's release stop the sandbox before returning, as
    /// `shutdown()` does (the port is free again afterwards).
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The document's test merchant, which every sandbox knows unless told otherwise.
#[uniffi::export]
pub fn test_merchant() -> TestMerchant {
    TestMerchant {
        busi_id: sosopay_sandbox::TEST_BUSI_ID.to_owned(),
        key: sosopay_sandbox::TEST_KEY.to_owned(),
    }
}

/// A payment code the customer pays with at once (WeChat; any well-formed code does).
#[uniffi::export]
pub fn code_pay_now() -> String {
    codes::PAY_NOW.to_owned()
}

/// The customer confirms on the phone and pays after `seconds` (scaled); the micropay
/// request is held until then. From 80 s the hold ends first and the client must poll.
#[uniffi::export]
pub fn code_pays_after(seconds: u16) -> String {
    codes::pays_after(seconds)
}

/// `SUCCESS` with STATE 0 ("user paying") at once; paid after `seconds`.
#[uniffi::export]
pub fn code_user_paying(seconds: u16) -> String {
    codes::user_paying(seconds)
}

/// Confirms for `seconds`, then insufficient funds: `FAIL`, STATE 6.
#[uniffi::export]
pub fn code_insufficient_funds_after(seconds: u16) -> String {
    codes::insufficient_funds_after(seconds)
}

/// Paid after `seconds`, but the reply says `EXCEPTION`: only a query tells it is paid.
#[uniffi::export]
pub fn code_reply_lost_after(seconds: u16) -> String {
    codes::reply_lost_after(seconds)
}

/// Never confirms: held 80 s (scaled), then `FAIL`; the order is cancelled.
#[uniffi::export]
pub fn code_never_confirms() -> String {
    codes::never_confirms()
}

/// The payment code has expired: `FAIL` at once, STATE 6.
#[uniffi::export]
pub fn code_expired() -> String {
    codes::code_expired()
}

/// Any special code: `behaviour` after `seconds` (0–999) on the channel with the two-digit
/// `channelPrefix` (`"13"` WeChat, `"28"` Alipay, `"91"` QQ Wallet, `"62"` UnionPay).
#[uniffi::export]
pub fn test_code(
    behaviour: Behaviour,
    seconds: u16,
    channel_prefix: String,
) -> Result<String, SandboxException> {
    codes::code(behaviour, seconds, &channel_prefix).map_err(|(field, reason)| {
        SandboxException::Invalid {
            field: if field == "channel" {
                "channelPrefix"
            } else {
                field
            }
            .into(),
            reason,
        }
    })
}
