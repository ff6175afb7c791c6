//! Payment notifications: verify the signature (and replay window), decrypt, decode.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use sosopay::notify::{
    Claim, IdempotencyStore, MemoryIdempotencyStore as CoreStore, WebhookOutcome,
};
use sosopay::notify::{NotificationVerifier as CoreVerifier, DEFAULT_MAX_AGE};
use sosopay::units::TimeUnit;
use sosopay::Error;

use crate::envelope::{bytes, key, Bytes};
use crate::error::{validation, IntoNapi};
use crate::input::{Body, Data, Id, Query, Text};
use crate::replies::Notification;

fn max_age(seconds: Option<f64>) -> Result<Duration, Error> {
    seconds.map_or(Ok(DEFAULT_MAX_AGE), |s| {
        sosopay::units::duration("maxAgeSeconds", s, TimeUnit::Seconds)
    })
}

/// Options of `parseNotification`.
#[napi(object, object_from_js = false)]
pub struct ParseNotificationOptions {
    /// The merchant key.
    pub key: String,
    /// The request's raw query string as received (with `sign=…`; a leading `?` is fine).
    pub query: String,
    /// The raw request body as received.
    #[napi(ts_type = "string | Buffer")]
    pub body: Bytes,
    /// Replay window in seconds (default 300; 0 disables the check).
    pub max_age_seconds: Option<f64>,
}
crate::from_js!(ParseNotificationOptions, "options", "a ParseNotificationOptions object", {
    key: text("key"),
    query: text("query"),
    body: bytes("body"),
    max_age_seconds: opt_number("maxAgeSeconds"),
});

/// Verifies and decodes one notification delivery; throws `SignatureError`, `CryptoError` or
/// `DecodeError` when it is not a genuine, fresh notification.
#[napi(js_name = "parseNotification")]
pub fn parse_notification(options: ParseNotificationOptions) -> napi::Result<Notification> {
    let k = key(&options.key).napi()?;
    let age = max_age(options.max_age_seconds).napi()?;
    sosopay::notify::parse_notification(&k, &options.query, bytes(&options.body), Some(age))
        .map(Notification::from)
        .napi()
}

/// Options of `new NotificationVerifier(...)`.
#[napi(object, object_from_js = false)]
pub struct VerifierOptions {
    /// The merchant key.
    pub key: String,
    /// Replay window in seconds (default 300; 0 disables the check).
    pub max_age_seconds: Option<f64>,
    /// Merchant keys being rotated out: a delivery signed with one of them is accepted too (at
    /// most 4; the current key is tried first).
    pub previous_keys: Option<Vec<String>>,
    /// Accept only notifications about this merchant's orders (their `BUSI_ID`): one naming
    /// another merchant, or none, is a `DecodeError` (a webhook answers it 400). The signature
    /// proves only the key: give it where several merchants share a key or a receiver.
    pub busi_code: Option<String>,
}
crate::from_js!(VerifierOptions, "options", "a VerifierOptions object", {
    key: text("key"),
    max_age_seconds: opt_number("maxAgeSeconds"),
    previous_keys: opt_texts("previousKeys"),
    busi_code: opt_text("busiCode"),
});

/// Verifies and decodes notifications for one merchant key (the 3DES key schedule is built once).
#[napi]
pub struct NotificationVerifier {
    inner: CoreVerifier,
}

#[napi]
impl NotificationVerifier {
    /// A verifier.
    #[napi(constructor)]
    pub fn new(options: VerifierOptions) -> napi::Result<Self> {
        let k = key(&options.key).napi()?;
        let age = max_age(options.max_age_seconds).napi()?;
        let inner = CoreVerifier::new(k)
            .with_max_age(age)
            .with_previous_keys(options.previous_keys.as_deref().unwrap_or_default())
            .and_then(|v| v.with_busi_code_opt(options.busi_code.as_deref()))
            .napi()?;
        Ok(NotificationVerifier { inner })
    }

    /// Verifies and decodes one delivery: the raw query string and the raw body as received.
    #[napi]
    pub fn parse(
        &self,
        #[napi(ts_arg_type = "string")] query: Text<Query>,
        #[napi(ts_arg_type = "string | Buffer")] body: Data<Body>,
    ) -> napi::Result<Notification> {
        self.inner
            .parse(&query, bytes(&body.0))
            .map(Notification::from)
            .napi()
    }
}

/// Remembers which notifications were processed, in this process. Across processes use
/// `sosopay/stores` (Redis, PostgreSQL), or a store of your own whose claim expires (a lease,
/// as theirs: 30 s); a plain unique key on `notification.idempotencyKey` is not enough, since a
/// worker killed mid-handler would leave its claim held for ever.
#[napi]
pub struct MemoryIdempotencyStore {
    inner: Arc<CoreStore>,
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl MemoryIdempotencyStore {
    /// An empty store.
    #[napi(constructor)]
    pub fn new() -> Self {
        MemoryIdempotencyStore {
            inner: Arc::new(CoreStore::new()),
        }
    }

    /// Atomically claims `id`: `"New"` (process it, then `complete`; `abandon` on failure),
    /// `"InProgress"` (another delivery is being processed: answer 503), `"Done"` (a duplicate:
    /// answer 200).
    #[napi(ts_return_type = "'New' | 'InProgress' | 'Done'")]
    pub fn begin(&self, #[napi(ts_arg_type = "string")] id: Text<Id>) -> napi::Result<String> {
        Ok(self.inner.begin(&id).napi()?.name().to_owned())
    }

    /// Marks `id` processed.
    #[napi]
    pub fn complete(&self, #[napi(ts_arg_type = "string")] id: Text<Id>) -> napi::Result<()> {
        self.inner.complete(&id).napi()
    }

    /// Releases a claim whose processing failed, so a later delivery processes it again.
    #[napi]
    pub fn abandon(&self, #[napi(ts_arg_type = "string")] id: Text<Id>) -> napi::Result<()> {
        self.inner.abandon(&id).napi()
    }

    /// How many ids it holds.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }
}

/// The answer owed to the gateway for a delivery's outcome.
#[napi(object)]
pub struct WebhookAnswer {
    /// The HTTP status: 200, 400, 500 or 503.
    pub status: u16,
    /// The body: `SUCCESS`, `BUSY` or `FAIL`.
    pub body: String,
}

/// The core's answer for `outcome` (the webhook helpers answer from this one table).
#[napi(js_name = "webhookAnswer")]
pub fn webhook_answer(
    #[napi(
        ts_arg_type = "'Processed' | 'Duplicate' | 'InProgress' | 'Rejected' | 'Failed' | 'StoreUnavailable'"
    )]
    outcome: String,
) -> napi::Result<WebhookAnswer> {
    let o = WebhookOutcome::from_name(&outcome).napi()?;
    Ok(WebhookAnswer {
        status: o.http_status(),
        body: o.body().to_owned(),
    })
}

/// The core's step after a store's `begin` answered `claim`: `null` means run the handler;
/// otherwise the outcome to answer now. A claim that is not `New`, `InProgress` or `Done` is a
/// `ValidationError` naming `claim`.
#[napi(
    js_name = "webhookAfterClaim",
    ts_return_type = "'Duplicate' | 'InProgress' | null"
)]
pub fn webhook_after_claim(claim: String) -> napi::Result<Option<String>> {
    let c = Claim::from_name(&claim)
        .ok_or_else(|| {
            validation(
                "claim",
                format!(
                    "{claim:?} is not New, InProgress or Done (what a store's begin() answers)"
                ),
            )
        })
        .napi()?;
    Ok(WebhookOutcome::after_claim(c).map(|o| o.name().to_owned()))
}

/// The shared stores' wire for `table` (the core's `stores`), for `sosopay/stores`: the
/// PostgreSQL statements (`$n` placeholders) and schema, the Redis scripts and record prefixes,
/// and the defaults (ms). An invalid table name is a `ValidationError` naming `table`.
#[napi(js_name = "storeWire")]
pub fn store_wire(table: String) -> napi::Result<serde_json::Value> {
    use sosopay::notify::{DEFAULT_CLAIM_LEASE, DEFAULT_RETENTION};
    use sosopay::stores::{self, Placeholders};
    let statements: serde_json::Map<String, serde_json::Value> =
        stores::postgres_statements(&table, Placeholders::Numbered)
            .napi()?
            .into_iter()
            .map(|(name, sql)| (name.to_owned(), sql.into()))
            .collect();
    Ok(serde_json::json!({
        "statements": statements,
        "schema": stores::postgres_schema(&table).napi()?,
        "completeLua": stores::REDIS_COMPLETE_LUA,
        "abandonLua": stores::REDIS_ABANDON_LUA,
        "claimPrefix": stores::CLAIM_PREFIX,
        "donePrefix": stores::DONE_PREFIX,
        "defaultPrefix": stores::DEFAULT_REDIS_PREFIX,
        "defaultTable": stores::DEFAULT_TABLE,
        "defaultLeaseMs": DEFAULT_CLAIM_LEASE.as_millis() as u64,
        "defaultRetentionMs": DEFAULT_RETENTION.as_millis() as u64,
        "beginTries": stores::BEGIN_TRIES,
    }))
}

/// When a shared store tries again after its server could not be reached (the core's
/// `stores::StoreRetry`): `once()` for every call but `complete`, `forComplete(leaseMs,
/// heldForMs)` for it.
#[napi]
pub struct StoreRetry(sosopay::stores::StoreRetry);

#[napi]
impl StoreRetry {
    /// Gives up after the immediate retry.
    #[napi(factory)]
    pub fn once() -> Self {
        StoreRetry(sosopay::stores::StoreRetry::once())
    }

    /// Keeps trying while 90 % of the claim's lease lasts (it was taken `heldForMs` ago).
    #[napi(factory)]
    pub fn for_complete(lease_ms: f64, held_for_ms: f64) -> Self {
        let ms = |v: f64| Duration::try_from_secs_f64(v / 1000.0).unwrap_or_default();
        StoreRetry(sosopay::stores::StoreRetry::for_complete(
            ms(lease_ms),
            ms(held_for_ms),
        ))
    }

    /// After a failed attempt: the ms to wait before trying again, or `null` to give up.
    #[napi]
    pub fn after_failure(&mut self) -> Option<f64> {
        self.0.after_failure().map(|d| d.as_secs_f64() * 1000.0)
    }

    /// After an attempt that got no answer in time: as `afterFailure`, never at once.
    #[napi]
    pub fn after_timeout(&mut self) -> Option<f64> {
        self.0.after_timeout().map(|d| d.as_secs_f64() * 1000.0)
    }

    /// Whether `complete`'s answer (`'held'`, `'lost'`, `'already'`) means the claim had
    /// outlived its lease (the core's `StoreRetry::lease_lost`).
    #[napi]
    pub fn lease_lost(&self, answer: String, with_token: bool) -> bool {
        self.0.lease_lost(&answer, with_token)
    }
}

/// A store's lease or retention in ms, checked: a `ValidationError` naming `field` otherwise.
#[napi(js_name = "storeDurationMs")]
pub fn store_duration_ms(
    field: String,
    #[napi(ts_arg_type = "number")] ms: Unknown<'_>,
) -> napi::Result<f64> {
    let v = crate::input::number(&ms, &field)?;
    let d = sosopay::stores::store_duration(&field, v / 1000.0).napi()?;
    Ok(d.as_secs_f64() * 1000.0)
}

/// Whether a PostgreSQL error (its SQLSTATE `code`, `null` when it has none) means the server
/// could not serve now: the core's `stores::postgres_unavailable`.
#[napi(js_name = "postgresUnavailable")]
pub fn postgres_unavailable(code: Option<String>) -> bool {
    sosopay::stores::postgres_unavailable(code.as_deref())
}

/// Whether a Redis error (a reply error's `message`, `null` for any other error) means the
/// server could not serve now: the core's `stores::redis_unavailable`.
#[napi(js_name = "redisUnavailable")]
pub fn redis_unavailable(message: Option<String>) -> bool {
    sosopay::stores::redis_unavailable(message.as_deref())
}

/// What a store warns when `complete` found that the claim on `id` had outlived its lease.
#[napi(js_name = "leaseLostWarning")]
pub fn lease_lost_warning(id: String, lease_ms: f64) -> String {
    let lease = Duration::try_from_secs_f64(lease_ms / 1000.0).unwrap_or_default();
    sosopay::stores::lease_lost_warning(&id, lease)
}
