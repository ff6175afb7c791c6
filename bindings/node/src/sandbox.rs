//! `NativeSandbox`: the sandbox gateway (`sosopay-sandbox`) in-process, behind the cargo feature
//! `sandbox` (on in the published package). `sosopay/testing` (node/testing.js) wraps it; nothing
//! runs until one is constructed (then a background thread with its own tokio runtime serves on
//! a local port), so `require('sosopay')` costs nothing more.

use std::sync::Arc;

use napi::bindgen_prelude::{spawn_blocking, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use serde_json::{json, Value};
use sosopay_sandbox::kit::{self, KitOptions, SandboxHandle};
use sosopay_sandbox::SandboxError;

use crate::error::{to_napi, to_napi_verbatim, validation};
use crate::input::{
    Accepted, Arg, Behaviour, BusiCode, Channel, ChargeCode, Count, Key, Seconds, Seed, Text,
    TimeoutMs,
};

/// Marks a sandbox error; node/testing.js turns it into a `SandboxError` (a `TimeoutError`
/// for status 408).
const PREFIX: &str = "[sosopay-sandbox]";

/// The sandbox crate's setting names as the Node options spell them (`RENAMED`, then the
/// core's `camel_case`, as the SDK's own errors).
fn js_field(field: &str) -> String {
    match RENAMED.iter().find(|(core, _)| *core == field) {
        Some((_, js)) => (*js).to_owned(),
        None => crate::error::camel_case(field),
    }
}

/// A bad setting or argument is the SDK's `ValidationError` naming it as JS spells it; the
/// rest is marked for node/testing.js, which makes it a `SandboxError` with the admin status
/// (a `TimeoutError` for 408).
fn sandbox_err(e: SandboxError) -> napi::Error {
    if let SandboxError::Config { field, reason } = e {
        // The reason may name other settings (`invalid busi_code: ...`): as JS spells them.
        let reason = sosopay::error::camel_case_reason(&reason);
        return to_napi_verbatim(validation(&js_field(&field), reason));
    }
    let after_ms = match e {
        SandboxError::Timeout { after_ms, .. } => Some(after_ms),
        _ => None,
    };
    let (status, reason) = (e.status(), e.reason());
    napi::Error::from_reason(format!(
        "{PREFIX}{}",
        json!({ "status": status, "reason": reason, "afterMs": after_ms })
    ))
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A whole number from 0 to `max` that JS can hold exactly, for the argument `field` (the
/// core's rule, `units::whole`).
fn whole<T: Copy + Into<u64> + TryFrom<u64>>(field: &str, v: f64, max: T) -> napi::Result<T> {
    sosopay::units::whole(field, v, max).map_err(to_napi)
}

/// A merchant the sandbox accepts.
#[napi(object, object_from_js = false)]
pub struct SandboxMerchant {
    /// `BUSI_ID`.
    pub busi_id: String,
    /// Its key.
    pub key: String,
}
crate::from_js!(SandboxMerchant, "merchants", "a merchant", {
    busi_id: text("busiId"),
    key: text("key"),
});

// --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitSettings)
/// How to start a sandbox (every field optional; unset: the sandbox crate's `KitOptions`
/// default).
#[napi(object, object_from_js = false)]
pub struct NativeSandboxOptions {
    /// Multiplies every gateway duration (the 80 s micropay hold, the test codes' delays,
    /// notification retries): `0.01` makes 80 s take 0.8 s. Above 0; default 1.
    pub time_scale: Option<f64>,
    /// The seed of the fault draws (the same seed and requests give the same faults). Default 0.
    pub seed: Option<f64>,
    /// Fault rules in force from the start, `op:kind:probability[:param]` (docs/SANDBOX.md).
    /// Default none.
    pub faults: Option<Vec<String>>,
    /// The merchants (`BUSI_ID` and key); none (the default): the document's test merchant.
    pub merchants: Option<Vec<SandboxMerchant>>,
    /// The IP address to listen on. Default `127.0.0.1`.
    pub host: Option<String>,
    /// The port; 0 (the default) picks a free one.
    pub port: Option<u16>,
    /// Rejects requests whose signature timestamp is further than this from the sandbox's clock
    /// (the gateway's replay window). Default: no check.
    ///
    /// Here: in milliseconds.
    pub max_request_age_ms: Option<f64>,
}
crate::from_js!(NativeSandboxOptions, "options", "a sandbox options object", {
    time_scale: opt_number("timeScale"),
    seed: opt_number("seed"),
    faults: opt_texts("faults"),
    merchants: opt_list::<SandboxMerchant>("merchants"),
    host: opt_text("host"),
    port: opt_u16("port"),
    max_request_age_ms: opt_number("maxRequestAgeMs"),
});

impl NativeSandboxOptions {
    /// The sandbox crate's options (unset: its defaults).
    fn into_kit(self) -> napi::Result<KitOptions> {
        let (o, d) = (self, KitOptions::default());
        Ok(KitOptions {
            time_scale: o.time_scale.unwrap_or(d.time_scale),
            seed: o
                .seed
                .map(|v| whole("seed", v, u64::MAX))
                .transpose()?
                .unwrap_or(d.seed),
            faults: o.faults.unwrap_or_default(),
            merchants: o
                .merchants
                .unwrap_or_default()
                .into_iter()
                .map(|m| (m.busi_id, m.key))
                .collect(),
            host: o.host.unwrap_or(d.host),
            port: o.port.unwrap_or(d.port),
            max_request_age: o.max_request_age_ms.map(|ms| ms / 1000.0),
        })
    }
}

/// The settings JavaScript spells otherwise, for the sandbox's errors.
const RENAMED: [(&str, &str); 2] = [
    ("time_scale", "timeScale"),
    ("max_request_age", "maxRequestAgeMs"),
];
// --- end of generated

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
pub struct NativeSandbox(Arc<SandboxHandle>);

#[napi]
impl NativeSandbox {
    /// Starts serving at once on a background thread.
    #[napi(constructor)]
    pub fn new(options: Option<NativeSandboxOptions>) -> napi::Result<Self> {
        let options = match options {
            None => KitOptions::default(),
            Some(o) => o.into_kit()?,
        };
        let h = SandboxHandle::start(&options).map_err(sandbox_err)?;
        Ok(NativeSandbox(Arc::new(h)))
    }

    // --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitMethods)
    /// `http://127.0.0.1:PORT/openGateway/openService/`: the clients' base URL.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.0.base_url().to_owned()
    }

    /// `http://127.0.0.1:PORT/`: the admin endpoints (`_sandbox/...`) and `flowRecharge`.
    #[napi(getter)]
    pub fn root_url(&self) -> String {
        self.0.root_url().to_owned()
    }

    /// The multiplier of every gateway duration it runs at.
    #[napi(getter)]
    pub fn time_scale(&self) -> f64 {
        self.0.time_scale()
    }

    /// Everything that happened: orders, refunds, notification attempts, top-ups, faults (the
    /// ledger, as `GET /_sandbox/ledger` answers it).
    #[napi]
    pub fn ledger(&self) -> napi::Result<Value> {
        self.0.ledger_json().map_err(sandbox_err)
    }

    /// One order as in the ledger, by charge code, if the gateway saw it (an error, 409, when
    /// several merchants used that charge code: give each merchant's orders their own codes).
    #[napi]
    pub fn order(
        &self,
        #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
    ) -> napi::Result<Value> {
        self.0
            .order(&charge_code)
            .map(|v| to_json(&v))
            .map_err(sandbox_err)
    }

    /// The customer pays an order awaiting payment (a QR or JSAPI order, or a micropay whose
    /// customer is confirming); returns the order as in the ledger.
    #[napi]
    pub fn pay(
        &self,
        #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
    ) -> napi::Result<Value> {
        self.0
            .pay(&charge_code)
            .map(|v| to_json(&v))
            .map_err(sandbox_err)
    }

    /// The payment of an order awaiting payment fails: it is closed (STATE 6); returns the order
    /// as in the ledger.
    #[napi]
    pub fn fail(
        &self,
        #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
    ) -> napi::Result<Value> {
        self.0
            .fail(&charge_code)
            .map(|v| to_json(&v))
            .map_err(sandbox_err)
    }

    /// Adds fault rules (`"preOrder:drop_reply:1"`, `"query:delay:0.5:2000"`, ...) to those in
    /// force (the seed stays).
    #[napi]
    pub fn add_faults(&self, rules: Vec<String>) -> napi::Result<()> {
        self.0.add_faults(&rules).map_err(sandbox_err)
    }

    /// Forgets every order, refund, notification and fault count (merchants and rules stay).
    #[napi]
    pub fn reset(&self) -> napi::Result<()> {
        self.0.reset().map_err(sandbox_err)
    }

    /// Registers (or re-keys) a merchant.
    #[napi]
    pub fn add_merchant(
        &self,
        #[napi(ts_arg_type = "string")] busi_id: Text<BusiCode>,
        #[napi(ts_arg_type = "string")] key: Text<Key>,
    ) -> napi::Result<()> {
        self.0.add_merchant(&busi_id, &key).map_err(sandbox_err)
    }

    /// The key of a merchant registered at start or with `addMerchant`, if there is one. A
    /// closed sandbox says so (the kits' `client()` asks for the key: a client for a closed
    /// sandbox would only fail at its first request, with "connection refused").
    #[napi]
    pub fn key_of(
        &self,
        #[napi(ts_arg_type = "string")] busi_id: Text<BusiCode>,
    ) -> napi::Result<Value> {
        self.0
            .key_of(&busi_id)
            .map(|v| to_json(&v))
            .map_err(sandbox_err)
    }

    /// The gateway's micropay hold at its time scale: 80 s × `timeScale` (0.8 s at 0.01), the
    /// core's default `gatewayHold` scaled.
    ///
    /// Here: in milliseconds.
    #[napi(getter)]
    pub fn micropay_hold_ms(&self) -> f64 {
        self.0.micropay_hold().as_nanos() as f64 / 1e6
    }

    /// The `gatewayHold` a client's flows should use against this sandbox (the Python and
    /// Node kits' clients default to it; Kotlin and Swift give it to `WaitOptions`): its
    /// micropay hold, 80 s × `timeScale` (0.8 s at 0.01), plus the longest `late` fault in
    /// force (a late request is carried out after that wall-time wait, however long ago the
    /// client gave up on it: a shorter hold could settle a payment that then goes through as
    /// `FAILED`). Ask again after changing the faults. Once closed: the micropay hold alone.
    ///
    /// Here: in milliseconds.
    #[napi(getter)]
    pub fn gateway_hold_ms(&self) -> f64 {
        self.0.gateway_hold().as_nanos() as f64 / 1e6
    }

    // --- end of generated

    /// Whether `close` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// The merchant a kit's client uses: the first the sandbox started with.
    #[napi(getter)]
    pub fn busi_code(&self) -> String {
        self.0.merchant().0
    }

    /// That merchant's key.
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.0.merchant().1
    }

    /// Replaces the fault rules (and the seed, if given).
    #[napi]
    pub fn set_faults(
        &self,
        rules: Vec<String>,
        #[napi(ts_arg_type = "number | undefined | null")] seed: Option<Arg<Seed, f64>>,
    ) -> napi::Result<()> {
        let seed = seed.map(|s| whole("seed", *s, u64::MAX)).transpose()?;
        self.0.set_faults(&rules, seed).map_err(sandbox_err)
    }

    /// The rules in force and the seed.
    #[napi]
    pub fn faults(&self) -> napi::Result<SandboxFaults> {
        let (rules, seed) = self.0.faults().map_err(sandbox_err)?;
        #[allow(clippy::cast_precision_loss)]
        let seed = seed as f64;
        Ok(SandboxFaults { rules, seed })
    }

    /// Resolves with the attempts once `count` notification attempts were accepted (or made);
    /// a timeout says why none came when the ledger tells (no such order, no notify URL, not
    /// paid). Waits on a blocking thread, never on the event loop. `timeoutMs`: unset, the kit's
    /// default wait (the sandbox crate's `DEFAULT_WAIT`).
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub fn wait_for_notifications<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "string | undefined | null")] charge_code: Option<Text<ChargeCode>>,
        #[napi(ts_arg_type = "number")] count: Arg<Count, f64>,
        #[napi(ts_arg_type = "boolean")] accepted: Arg<Accepted, bool>,
        #[napi(ts_arg_type = "number | undefined | null")] timeout_ms: Option<Arg<TimeoutMs, f64>>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let count = whole("count", *count, u32::MAX)?;
        let (charge_code, accepted) = (charge_code.map(|c| c.0), accepted.0);
        let t = kit::timeout(
            "timeoutMs",
            timeout_ms.map(|t| t.0),
            kit::TimeUnit::Milliseconds,
        )
        .map_err(sandbox_err)?;
        let h = self.0.clone();
        blocking(env, move || {
            let c = charge_code.as_deref();
            h.wait_for_notification(c, count, accepted, t)
                .map(|v| to_json(&v))
                .map_err(|e| match h.ledger() {
                    // A timeout says why none came, when the ledger tells.
                    Ok(l) => l.explain_notification_wait(c, e),
                    Err(_) => e,
                })
        })
    }

    /// Resolves with the order once it is in one of `states` (names or wire codes).
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub fn wait_for_state<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
        states: Vec<String>,
        #[napi(ts_arg_type = "number | undefined | null")] timeout_ms: Option<Arg<TimeoutMs, f64>>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let t = kit::timeout(
            "timeoutMs",
            timeout_ms.map(|t| t.0),
            kit::TimeUnit::Milliseconds,
        )
        .map_err(sandbox_err)?;
        let h = self.0.clone();
        blocking(env, move || {
            h.wait_for_state(&charge_code, &states, t)
                .map(|o| to_json(&o))
        })
    }

    /// Stops serving; resolves once the background thread ended (idempotent).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        let h = self.0.clone();
        blocking(env, move || {
            h.close();
            Ok(())
        })
    }
}

/// Runs `f` on a blocking thread; its result settles the Promise.
fn blocking<'env, T: Send + 'static + napi::bindgen_prelude::ToNapiValue>(
    env: &'env Env,
    f: impl FnOnce() -> Result<T, SandboxError> + Send + 'static,
) -> napi::Result<PromiseRaw<'env, T>> {
    env.spawn_future(async move {
        spawn_blocking(f)
            .await
            .map_err(|e| napi::Error::from_reason(format!("the sandbox thread failed: {e}")))?
            .map_err(sandbox_err)
    })
}

/// The document's test merchant (its `BUSI_ID`), registered in every sandbox unless
/// `merchants` says otherwise.
#[napi(js_name = "TEST_BUSI_CODE")]
pub const TEST_BUSI_CODE: &str = sosopay_sandbox::TEST_BUSI_ID;

/// Its key.
#[napi(js_name = "TEST_KEY")]
pub const TEST_KEY: &str = sosopay_sandbox::TEST_KEY;

/// The cashier (`OPER_ID`) a kit's client sends unless told otherwise.
#[napi(js_name = "KIT_OPER_ID")]
pub const KIT_OPER_ID: &str = kit::CLIENT_OPER_ID;

/// The till (`DEV_ID`) a kit's client sends unless told otherwise.
#[napi(js_name = "KIT_DEV_ID")]
pub const KIT_DEV_ID: &str = kit::CLIENT_DEV_ID;

/// A test payment code (the sandbox's `codes::code_from_parts`); a bad argument is a
/// `ValidationError` naming it.
#[napi(js_name = "testCode")]
pub fn test_code(
    #[napi(ts_arg_type = "number")] behaviour: Arg<Behaviour, f64>,
    #[napi(ts_arg_type = "number")] seconds: Arg<Seconds, f64>,
    #[napi(ts_arg_type = "string")] channel: Text<Channel>,
) -> napi::Result<String> {
    let whole = |field: &str, n: f64| {
        if n.fract() == 0.0 && n.abs() < 1e15 {
            Ok(n as i64)
        } else {
            Err(to_napi(validation(
                field,
                format!("{n} is not a whole number"),
            )))
        }
    };
    sosopay_sandbox::codes::code_from_parts(
        whole("behaviour", *behaviour)?,
        whole("seconds", *seconds)?,
        &channel,
    )
    .map_err(|(field, reason)| to_napi(validation(field, reason)))
}
