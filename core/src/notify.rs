//! Payment notifications (`PAY_NODIFY`, §5): verify, decrypt, decode, and process once.
//!
//! The gateway POSTs the notification to the merchant's `NODIFY_URL` with `sign=md5:ts` added
//! to the query, up to 30 times 5 s apart until it gets HTTP 200. So a handler must verify the
//! signature, reject replays, and process each payment once although it arrives many times.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::envelope::{self, Envelope, MerchantKey, Signature};
use crate::error::{Error, Result};
use crate::models::Notification;

/// The default replay window: the gateway's 30 deliveries 5 s apart (150 s), plus 150 s of
/// clock skew.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// How long the gateway keeps delivering one notification: 30 attempts, 5 s apart.
pub const GATEWAY_RETRY_WINDOW: Duration = Duration::from_secs(150);

/// The default lease of a claim in a store shared by many processes (see [`IdempotencyStore`]):
/// a claim not completed or abandoned within it may be taken over by another delivery, the
/// worker holding it being presumed dead. Far under [`GATEWAY_RETRY_WINDOW`], so an order whose
/// worker crashed mid-handler is still processed by one of the gateway's later deliveries; a
/// handler must finish within it.
pub const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(30);

/// The default time a store keeps a `done` record before it may be purged: 7 days, far beyond
/// [`DEFAULT_MAX_AGE`] (a delivery older than the replay window is refused anyway).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

// Checked at compile time: a crashed worker's claim expires while the gateway still retries,
// with room for several more deliveries; the lease is longer than one delivery's wait for an
// answer (10 s at the sandbox); a done record outlives every delivery the verifier accepts.
const _: () = {
    assert!(DEFAULT_CLAIM_LEASE.as_secs() * 4 <= GATEWAY_RETRY_WINDOW.as_secs());
    assert!(DEFAULT_CLAIM_LEASE.as_secs() > 10);
    assert!(
        DEFAULT_RETENTION.as_secs() > DEFAULT_MAX_AGE.as_secs() + GATEWAY_RETRY_WINDOW.as_secs()
    );
};

/// Verifies and decodes notifications for one merchant key (and, while it is being rotated,
/// the keys it replaces). Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub struct NotificationVerifier {
    envelope: Envelope,
    /// Keys being rotated out: a delivery signed with one of them is accepted too (the gateway
    /// repeats a notification for 150 s, and switches keys when the merchant's support does).
    previous: Vec<Envelope>,
    max_age: Duration,
    /// The merchant whose notifications are accepted (`BUSI_ID`); `None`: any the key signs.
    busi_code: Option<String>,
}

/// The most previous keys a verifier takes (each costs an MD5 of a refused delivery).
pub const MAX_PREVIOUS_KEYS: usize = 4;

/// Percent-decodes a query-string component (`+` is a space).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parameters of a raw query string (a leading `?` is ignored); the first of a name wins.
pub fn parse_query(raw_query: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for (k, v) in query_pairs(raw_query) {
        m.entry(k).or_insert(v);
    }
    m
}

/// Every parameter of a raw query string, decoded, in order (repeats kept).
fn query_pairs(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The value of the notification query's parameter `name` (matched ignoring ASCII case), or
/// `None`. Given more than once (`sign` and `SIGN`, or `sign` twice), which one the gateway
/// meant cannot be told: a `Signature` error, whatever the values and their order. With
/// `same_ok`, repeats of one value (ignoring ASCII case) are that value.
fn query_param<'a>(
    params: &'a [(String, String)],
    name: &str,
    same_ok: bool,
) -> Result<Option<&'a str>> {
    let mut found = params.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
    let Some((_, first)) = found.next() else {
        return Ok(None);
    };
    let mut others = found.peekable();
    if others.peek().is_some() && !(same_ok && others.all(|(_, v)| v.eq_ignore_ascii_case(first))) {
        let how = if same_ok {
            " with different values"
        } else {
            ""
        };
        return Err(Error::signature(format!(
            "the notification's query gives the {name} parameter more than once{how} (names are case-insensitive): which one holds cannot be told"
        )));
    }
    Ok(Some(first.as_str()))
}

impl NotificationVerifier {
    /// A verifier with the default replay window ([`DEFAULT_MAX_AGE`]).
    pub fn new(key: MerchantKey) -> Self {
        NotificationVerifier {
            envelope: Envelope::new(key),
            previous: Vec::new(),
            max_age: DEFAULT_MAX_AGE,
            busi_code: None,
        }
    }

    /// Accepts only notifications about merchant `busi_code`'s orders (their `BUSI_ID`): one
    /// naming another merchant, or none, is refused as a [`Error::Decode`] (a webhook answers
    /// it 400). The signature proves only the key; where several merchants share a key (or a
    /// receiver), this is what proves the payment is this merchant's. An invalid code is a
    /// validation error naming `busi_code`.
    pub fn with_busi_code(mut self, busi_code: impl Into<String>) -> Result<Self> {
        let code = busi_code.into();
        crate::models::validate_code("busi_code", &code)?;
        self.busi_code = Some(code);
        Ok(self)
    }

    /// [`with_busi_code`](Self::with_busi_code) when `busi_code` is given (how every binding
    /// takes the option); `None` leaves the verifier as it is.
    pub fn with_busi_code_opt(self, busi_code: Option<&str>) -> Result<Self> {
        match busi_code {
            Some(code) => self.with_busi_code(code),
            None => Ok(self),
        }
    }

    /// The merchant whose notifications are accepted, when restricted to one.
    pub fn busi_code(&self) -> Option<&str> {
        self.busi_code.as_deref()
    }

    /// Also accepts deliveries signed (and encrypted) with `key`, a merchant key being rotated
    /// out: the gateway may still sign with the old key after the switch (a notification is
    /// repeated for 150 s), or the shop deploys the new key before the gateway switches. The
    /// current key is tried first; remove the old one once the rotation is over. At most
    /// [`MAX_PREVIOUS_KEYS`]; the current key again is ignored.
    pub fn with_previous_key(mut self, key: MerchantKey) -> Result<Self> {
        if key.expose() == self.envelope.key().expose()
            || self
                .previous
                .iter()
                .any(|e| e.key().expose() == key.expose())
        {
            return Ok(self);
        }
        if self.previous.len() >= MAX_PREVIOUS_KEYS {
            return Err(Error::validation(
                "previous_keys",
                format!("at most {MAX_PREVIOUS_KEYS} keys (the keys being rotated out)"),
            ));
        }
        self.previous.push(Envelope::new(key));
        Ok(self)
    }

    /// [`with_previous_key`](Self::with_previous_key) for each of `keys`, given as text (how
    /// every binding takes them); an error names `previous_keys`.
    pub fn with_previous_keys<S: AsRef<str>>(mut self, keys: &[S]) -> Result<Self> {
        for k in keys {
            let key = MerchantKey::new(k.as_ref())
                .map_err(|e| e.renamed_fields(&[("key", "previous_keys")]))?;
            self = self.with_previous_key(key)?;
        }
        Ok(self)
    }

    /// How many previous keys are accepted besides the current one.
    pub fn previous_keys(&self) -> usize {
        self.previous.len()
    }

    /// Sets the replay window; `Duration::ZERO` disables the age check.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The replay window.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Verifies and decodes one delivery: `raw_query` is the request's query string as
    /// received (with `sign=…`, and `_type`/`encrypt` from the `NODIFY_URL`), `raw_body` the
    /// request body as received.
    pub fn parse(&self, raw_query: &str, raw_body: &[u8]) -> Result<Notification> {
        self.parse_at(raw_query, raw_body, envelope::now_millis())
    }

    /// As [`NotificationVerifier::parse`], with the current time given (Unix ms), for tests.
    pub fn parse_at(&self, raw_query: &str, raw_body: &[u8], now_ms: u64) -> Result<Notification> {
        let params = query_pairs(raw_query);
        let sign = query_param(&params, "sign", false)?
            .ok_or_else(|| Error::signature("the notification has no sign parameter"))?;
        let signature = Signature::parse(sign)?;
        let encrypted =
            query_param(&params, "encrypt", true)?.is_some_and(|v| v.eq_ignore_ascii_case("3DES"));
        // A body still compressed (a proxy's `Content-Encoding: gzip` the server did not undo)
        // is said to be so, not "not UTF-8".
        if raw_body.starts_with(&[0x1f, 0x8b]) {
            return Err(Error::decode(
                "the notification body is gzip-compressed (Content-Encoding: gzip, from a proxy on the way): decompress it before handing it to sosopay",
            ));
        }
        let body = std::str::from_utf8(raw_body)
            .map_err(|_| Error::decode("the notification body is not UTF-8"))?;
        if body.trim().is_empty() {
            return Err(Error::decode(
                "the notification body is empty (a chunked request read by its Content-Length alone? read the whole body)",
            ));
        }
        // A body that is neither JSON nor XML is taken as 3DES even when the URL does not say so.
        let sniffed = !encrypted && !crate::codec::looks_plain(body);
        let encrypted = encrypted || sniffed;
        // The current key, then the keys being rotated out; a refusal reports the current key's.
        let signed = match verified(&self.envelope, body, encrypted, &signature) {
            Ok(text) => text,
            Err(e) => self
                .previous
                .iter()
                .find_map(|env| verified(env, body, encrypted, &signature).ok())
                .ok_or(match e {
                    // Not asked for 3DES, and not 3DES either: say what it is not.
                    Error::Crypto { reason, .. } if sniffed => Error::decode(format!(
                        "the notification body is not JSON or XML (nor 3DES ciphertext: {reason})"
                    )),
                    e => e,
                })?,
        };
        if !self.max_age.is_zero() {
            let ts = signature.timestamp_millis();
            let max = self.max_age.as_millis() as u64;
            if now_ms > ts && now_ms - ts > max {
                return Err(Error::signature(format!(
                    "the notification is {} old, beyond the {} replay window (a replayed delivery, or this server's clock is ahead)",
                    age_text(Duration::from_millis(now_ms - ts)),
                    age_text(self.max_age)
                )));
            }
            if ts > now_ms && ts - now_ms > max {
                return Err(Error::signature(format!(
                    "the notification's timestamp is {} in the future (this server's clock is behind)",
                    age_text(Duration::from_millis(ts - now_ms))
                )));
            }
        }
        // The format is sniffed from the body (`_type` in the URL only says what was asked for).
        let n = Notification::decode(&signed)?;
        // The signature ignores whitespace (Java `\s`), so a copy with a space slipped into a
        // value still verifies. No code holds one (`validate_code`; `DYNAMIC_ID`, the scanned
        // code: digits): such a copy is refused, never handed to the handler with a value no
        // order has, where its once-only claim would turn the genuine delivery away as a
        // duplicate. (Text that may hold spaces, `MERCHANTPARA` from another client or wrapped
        // Base64, `PAY_SUBJECT`, `OPER_ID`, `DEV_ID`, goods names, is taken as it comes: the
        // signature does not cover its whitespace.)
        let o = &n.order;
        for (field, v) in [
            ("BUSI_ID", &o.busi_id),
            ("CHARGE_CODE", &o.charge_code),
            ("CHARGE_DOWN_CODE", &o.charge_down_code),
            ("CHARGE_THIRD_CODE", &o.charge_third_code),
            ("DYNAMIC_ID", &o.dynamic_id),
        ] {
            if v.as_deref()
                .is_some_and(|v| v.bytes().any(envelope::is_java_space))
            {
                return Err(Error::signature(format!(
                    "the notification's {field} holds whitespace, which its signature does not cover: a copy altered in transit"
                )));
            }
        }
        if let Some(want) = &self.busi_code {
            match n.order.busi_id.as_deref().map(str::trim) {
                Some(got) if got == want => {}
                Some(got) => {
                    return Err(Error::decode(format!(
                        "the notification is about an order of the merchant with BUSI_ID {got:?}, not {want:?} (signed with a key that merchant shares)"
                    )))
                }
                None => {
                    return Err(Error::decode(format!(
                        "the notification names no BUSI_ID, so it cannot be shown to be about an order of merchant {want:?}"
                    )))
                }
            }
        }
        Ok(n)
    }
}

/// The text `signature` covers under `env`'s key: the body (decrypted when `encrypted`), or the
/// body with the vendor's `\/` escaping undone; an error when it does not verify.
fn verified(env: &Envelope, body: &str, encrypted: bool, signature: &Signature) -> Result<String> {
    let plaintext = if encrypted {
        env.decrypt_to_string(body.trim())?
    } else {
        body.to_owned()
    };
    let key = env.key();
    if signature.verify_body(key, &plaintext) {
        return Ok(plaintext);
    }
    // Fallback seen in production: the vendor signs the JSON before its serializer escapes '/'
    // as "\/" (in URLs, dates). Undo exactly that and nothing else: removing any other
    // backslash would let escaped quotes merge fields into one string, or `ORDER\-7` pass as
    // `ORDER-7`, under the same signature. The undone text is what gets decoded (for JSON it
    // means the same; in XML it is what was signed).
    match unescape_slashes(&plaintext) {
        Some(u) if signature.verify_body(key, &u) => Ok(u),
        _ => Err(Error::signature(
            "the notification's signature does not match (wrong key or altered body)",
        )),
    }
}

/// The body with every `\/` replaced by `/` (the vendor's escaping of `/`), or `None` when it
/// has none.
fn unescape_slashes(body: &str) -> Option<String> {
    body.contains("\\/").then(|| body.replace("\\/", "/"))
}

/// A span as a message shows it, never rounded to what reads as another span: microseconds
/// under 1 ms (a window of 0.5 ms is not "0 ms", which reads as no window at all), milliseconds
/// under 10 s, else seconds with their fraction (300.4 s is not "300 s").
fn age_text(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else if d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{} s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// One-shot: verify and decode a notification. `max_age`: `None` for the default window,
/// `Some(Duration::ZERO)` to disable it.
pub fn parse_notification(
    key: &MerchantKey,
    raw_query: &str,
    raw_body: &[u8],
    max_age: Option<Duration>,
) -> Result<Notification> {
    let v = NotificationVerifier::new(key.clone()).with_max_age(max_age.unwrap_or(DEFAULT_MAX_AGE));
    v.parse(raw_query, raw_body)
}

impl Notification {
    /// The key under which this notification is processed once: merchant, order, state and
    /// amount in fen (a later state of the same order, e.g. refunded, is a new event, and so is
    /// one for another amount, which a handler that refuses it must not make the right one
    /// look done). The gateway delivers the same notification up to 30 times: keep the key
    /// (e.g. under a unique constraint).
    ///
    /// Built from the decoded fields (never from the raw text), in the form the signature
    /// covers: the body signature ignores whitespace (Java `\s`), so whitespace is left out of
    /// the key too (the verifier refuses a delivery with a space slipped into a code).
    pub fn idempotency_key(&self) -> String {
        let amount = self.amount.fen().to_string();
        let parts = [
            self.order.busi_id.as_deref().unwrap_or(""),
            &self.charge_code,
            self.state.as_wire(),
            &amount,
        ];
        let mut key = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                key.push(':');
            }
            key.extend(
                part.chars()
                    .filter(|c| !(c.is_ascii() && envelope::is_java_space(*c as u8))),
            );
        }
        key
    }
}

/// Where a notification stands in an [`IdempotencyStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Claim {
    /// First time seen: the caller now owns it and must process it, then `complete` (or
    /// `abandon` on failure).
    New,
    /// Another delivery is being processed right now: answer non-200 so the gateway retries.
    InProgress,
    /// Already processed: answer 200 and do nothing.
    Done,
}

impl Claim {
    /// The name as Node and Kotlin spell it: `"New"`, `"InProgress"`, `"Done"`.
    pub fn name(self) -> &'static str {
        match self {
            Claim::New => "New",
            Claim::InProgress => "InProgress",
            Claim::Done => "Done",
        }
    }

    /// The name as Python spells it: `"new"`, `"in_progress"`, `"done"`.
    pub fn snake_name(self) -> &'static str {
        match self {
            Claim::New => "new",
            Claim::InProgress => "in_progress",
            Claim::Done => "done",
        }
    }

    /// The claim a store's `begin` answered, in either spelling; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Claim> {
        [Claim::New, Claim::InProgress, Claim::Done]
            .into_iter()
            .find(|c| c.name() == name || c.snake_name() == name)
    }
}

/// Remembers which notifications were processed. Implement it over your database (a unique
/// key on [`Notification::idempotency_key`]); [`MemoryIdempotencyStore`] is the in-process one.
///
/// A store shared by several processes (the Python and Node packages' Redis and PostgreSQL
/// stores) follows this contract, per id:
///
/// ```text
/// (none) --begin--> claimed(token, lease) --complete--> done --(retention)--> purged
///                      |  \--abandon(token)--> (none)
///                      \--(lease expires)--> claimable by the next begin
/// ```
///
/// * `begin` is one atomic step on the server: [`Claim::New`] for exactly one of concurrent
///   callers (no record, or a claim whose lease ran out), [`Claim::InProgress`] while another
///   holds a live claim (answer 503: the gateway retries; never a second handler run),
///   [`Claim::Done`] once completed. The lease ([`DEFAULT_CLAIM_LEASE`]) and its clock are the
///   server's.
/// * `complete` records the outcome durably, also when the lease ran out meanwhile (the handler
///   did run; recording it stops a third run); a store that cannot reach its server keeps
///   trying while the lease lasts, then fails (answer 503).
/// * `abandon` releases the claim only if it is still the caller's (a claim token compared and
///   deleted in one step): a claim taken over after the lease is left alone.
/// * A `done` record is kept for a retention period ([`DEFAULT_RETENTION`]), then may be purged.
///
/// The token is the store's business (the trait's callers pass only the id); the in-process
/// [`MemoryIdempotencyStore`] needs no lease, since its claims die with the process (a handler
/// that hangs holds its claim until then: give the handler's I/O timeouts).
pub trait IdempotencyStore: Send + Sync {
    /// Atomically claims `id`.
    fn begin(&self, id: &str) -> Result<Claim>;
    /// Marks `id` processed.
    fn complete(&self, id: &str) -> Result<()>;
    /// Releases a claim whose processing failed, so a later delivery processes it again.
    fn abandon(&self, id: &str) -> Result<()>;
}

/// An in-memory [`IdempotencyStore`] (per process; use a database across processes).
#[derive(Debug, Default)]
pub struct MemoryIdempotencyStore {
    state: Mutex<HashMap<String, bool>>, // id -> done
}

impl MemoryIdempotencyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many ids it holds.
    pub fn len(&self) -> usize {
        self.state.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Is it empty?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn poisoned() -> Error {
    Error::decode("the idempotency store's lock was poisoned by a panicking handler")
}

impl IdempotencyStore for MemoryIdempotencyStore {
    fn begin(&self, id: &str) -> Result<Claim> {
        let mut m = self.state.lock().map_err(|_| poisoned())?;
        Ok(match m.get(id) {
            Some(true) => Claim::Done,
            Some(false) => Claim::InProgress,
            None => {
                m.insert(id.to_owned(), false);
                Claim::New
            }
        })
    }

    fn complete(&self, id: &str) -> Result<()> {
        self.state
            .lock()
            .map_err(|_| poisoned())?
            .insert(id.to_owned(), true);
        Ok(())
    }

    fn abandon(&self, id: &str) -> Result<()> {
        let mut m = self.state.lock().map_err(|_| poisoned())?;
        if m.get(id) == Some(&false) {
            m.remove(id);
        }
        Ok(())
    }
}

/// What happened to one notification delivery in `process_once`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Processed now: answer HTTP 200.
    Processed,
    /// Already processed before (the gateway repeats notifications): answer HTTP 200.
    Duplicate,
    /// Another delivery of it is being processed right now: answer 503 so the gateway retries.
    InProgress,
}

impl Delivery {
    /// The HTTP status to answer the gateway: 200 stops its retries; 503 makes it retry.
    pub fn http_status(self) -> u16 {
        WebhookOutcome::from(self).http_status()
    }
}

/// How one delivery ended, whoever ran the handler, and the answer owed to the gateway. Every
/// runtime's webhook helper answers from this one table ([`WebhookOutcome::http_status`],
/// [`WebhookOutcome::body`]) and takes its next step from [`WebhookOutcome::after_claim`], so
/// Rust, Python and Node answer a delivery the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookOutcome {
    /// Processed now: 200 `SUCCESS`.
    Processed,
    /// Already processed by an earlier delivery: 200 `SUCCESS`.
    Duplicate,
    /// Another delivery holds the claim right now: 503 `BUSY` (the gateway delivers again).
    InProgress,
    /// Not a genuine, fresh notification (signature, replay window, 3DES, decoding): 400 `FAIL`.
    Rejected,
    /// The handler failed and its claim was released: 500 `FAIL` (the gateway delivers again).
    Failed,
    /// The idempotency store could not be reached, or could not record the outcome: 503
    /// `BUSY`. If `begin` failed, nothing was processed. If `complete` failed, the handler ran
    /// but is not recorded: once the claim's lease runs out a re-delivery runs it again
    /// (at-least-once: a handler must be idempotent on the order, "mark paid", never "add
    /// the amount").
    StoreUnavailable,
}

impl WebhookOutcome {
    /// Every outcome, in declaration order.
    pub const ALL: [WebhookOutcome; 6] = [
        WebhookOutcome::Processed,
        WebhookOutcome::Duplicate,
        WebhookOutcome::InProgress,
        WebhookOutcome::Rejected,
        WebhookOutcome::Failed,
        WebhookOutcome::StoreUnavailable,
    ];

    /// The HTTP status to answer: 200 stops the gateway's retries; anything else makes it retry.
    pub fn http_status(self) -> u16 {
        match self {
            WebhookOutcome::Processed | WebhookOutcome::Duplicate => 200,
            WebhookOutcome::InProgress | WebhookOutcome::StoreUnavailable => 503,
            WebhookOutcome::Rejected => 400,
            WebhookOutcome::Failed => 500,
        }
    }

    /// The body to answer with: `SUCCESS`, `BUSY` or `FAIL`.
    pub fn body(self) -> &'static str {
        match self.http_status() {
            200 => "SUCCESS",
            503 => "BUSY",
            _ => "FAIL",
        }
    }

    /// The name (`"Processed"`, ..., `"StoreUnavailable"`), as the bindings spell it.
    pub fn name(self) -> &'static str {
        match self {
            WebhookOutcome::Processed => "Processed",
            WebhookOutcome::Duplicate => "Duplicate",
            WebhookOutcome::InProgress => "InProgress",
            WebhookOutcome::Rejected => "Rejected",
            WebhookOutcome::Failed => "Failed",
            WebhookOutcome::StoreUnavailable => "StoreUnavailable",
        }
    }

    /// The outcome named `name` (see [`WebhookOutcome::name`]).
    pub fn from_name(name: &str) -> Result<WebhookOutcome> {
        WebhookOutcome::ALL
            .into_iter()
            .find(|o| o.name() == name)
            .ok_or_else(|| {
                Error::validation(
                    "outcome",
                    format!("{name:?} is not one of Processed, Duplicate, InProgress, Rejected, Failed, StoreUnavailable"),
                )
            })
    }

    /// The step after the store's `begin`: `None` means run the handler (then `complete`, or
    /// `abandon` when it fails); `Some(outcome)` means answer now without running it.
    pub fn after_claim(claim: Claim) -> Option<WebhookOutcome> {
        match claim {
            Claim::New => None,
            Claim::Done => Some(WebhookOutcome::Duplicate),
            Claim::InProgress => Some(WebhookOutcome::InProgress),
        }
    }
}

impl From<Delivery> for WebhookOutcome {
    fn from(d: Delivery) -> Self {
        match d {
            Delivery::Processed => WebhookOutcome::Processed,
            Delivery::Duplicate => WebhookOutcome::Duplicate,
            Delivery::InProgress => WebhookOutcome::InProgress,
        }
    }
}

/// Abandons a claim when dropped: only while a panicking handler unwinds (it is forgotten
/// otherwise).
struct Abandon<'a, S: IdempotencyStore + ?Sized> {
    store: &'a S,
    id: &'a str,
}

impl<S: IdempotencyStore + ?Sized> Drop for Abandon<'_, S> {
    fn drop(&mut self) {
        let _ = self.store.abandon(self.id);
    }
}

/// Runs `handler` once per notification across all its deliveries. When the handler fails,
/// the claim is released (so the gateway's next delivery retries it) and its error returned;
/// answer the gateway non-200 then. A handler that panics releases the claim too (the panic
/// goes on unwinding).
pub fn process_once<S, F, E>(
    store: &S,
    notification: &Notification,
    handler: F,
) -> std::result::Result<Delivery, E>
where
    S: IdempotencyStore + ?Sized,
    F: FnOnce(&Notification) -> std::result::Result<(), E>,
    E: From<Error>,
{
    let id = notification.idempotency_key();
    match store.begin(&id)? {
        Claim::Done => Ok(Delivery::Duplicate),
        Claim::InProgress => Ok(Delivery::InProgress),
        Claim::New => {
            // A handler that panics (and a framework that catches the panic and serves on)
            // must not leave the claim held: the next delivery would be `InProgress` until the
            // process ends (the memory store has no lease). Released while unwinding.
            let claim = Abandon { store, id: &id };
            let handled = handler(notification);
            std::mem::forget(claim);
            match handled {
                Ok(()) => {
                    store.complete(&id)?;
                    Ok(Delivery::Processed)
                }
                Err(e) => {
                    // The handler's error is the answer (500, and what gets logged), also when
                    // the store cannot release the claim now: its lease then runs out.
                    let _ = store.abandon(&id);
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
    const BODY: &str = r#"{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","CHARGE_DOWN_CODE":"D1","CHANNEL_TYPE":1,"STATE":1,"AMT":1,"OPER_ID":"T","PAY_SUBJECT":"x y","FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"0.01"}]}}}"#;

    fn key() -> MerchantKey {
        MerchantKey::new(KEY).expect("key")
    }

    #[test]
    fn webhook_outcomes_answer_from_one_table() {
        use WebhookOutcome as W;
        let table = [
            (W::Processed, 200, "SUCCESS"),
            (W::Duplicate, 200, "SUCCESS"),
            (W::InProgress, 503, "BUSY"),
            (W::Rejected, 400, "FAIL"),
            (W::Failed, 500, "FAIL"),
            (W::StoreUnavailable, 503, "BUSY"),
        ];
        for (o, status, body) in table {
            assert_eq!((o.http_status(), o.body()), (status, body), "{o:?}");
            assert_eq!(W::from_name(o.name()).ok(), Some(o));
        }
        assert_eq!(W::after_claim(Claim::New), None);
        for c in [Claim::New, Claim::InProgress, Claim::Done] {
            assert_eq!(Claim::from_name(c.name()), Some(c));
            assert_eq!(Claim::from_name(c.snake_name()), Some(c));
        }
        assert_eq!(Claim::from_name("busy"), None);
        assert_eq!(W::after_claim(Claim::Done), Some(W::Duplicate));
        assert_eq!(W::after_claim(Claim::InProgress), Some(W::InProgress));
        assert_eq!(Delivery::InProgress.http_status(), 503);
        match W::from_name("processed") {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "outcome"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_tiny_replay_window_is_shown_in_milliseconds_never_as_zero_seconds() {
        let now = 1_800_000_000_000u64;
        let sign = envelope::sign_body(&key(), &now.to_string(), BODY).expect("sign");
        let q = format!("_type=json&sign={sign}");
        let v = NotificationVerifier::new(key()).with_max_age(Duration::from_millis(1));
        let e = v
            .parse_at(&q, BODY.as_bytes(), now + 10_000)
            .expect_err("old");
        assert!(
            e.to_string()
                .contains("10 s old, beyond the 1 ms replay window"),
            "{e}"
        );
        let e = v
            .parse_at(&q, BODY.as_bytes(), now - 2_500)
            .expect_err("future");
        assert!(e.to_string().contains("2500 ms in the future"), "{e}");
        let half = NotificationVerifier::new(key()).with_max_age(Duration::from_micros(500));
        let e = half
            .parse_at(&q, BODY.as_bytes(), now + 58)
            .expect_err("old");
        assert!(
            e.to_string()
                .contains("58 ms old, beyond the 500 µs replay window"),
            "{e}"
        );
        // Seconds keep their fraction: never "300 s old, beyond the 300 s window".
        let e = NotificationVerifier::new(key())
            .with_max_age(Duration::from_secs(300))
            .parse_at(&q, BODY.as_bytes(), now + 300_400)
            .expect_err("old");
        assert!(
            e.to_string()
                .contains("300.4 s old, beyond the 300 s replay window"),
            "{e}"
        );
    }

    #[test]
    fn verifies_plain_and_encrypted() {
        let now = 1_800_000_000_000u64;
        let ts = now.to_string();
        let sign = envelope::sign_body(&key(), &ts, BODY).expect("sign");
        let v = NotificationVerifier::new(key());
        let n = v
            .parse_at(&format!("_type=json&sign={sign}"), BODY.as_bytes(), now)
            .expect("plain");
        assert_eq!(n.order.amount.map(crate::Amount::fen), Some(1));
        assert_eq!(n.order.fund_bills[0].amount.fen(), 1);
        let ct = Envelope::new(key()).encrypt(BODY.as_bytes());
        let q = format!("_type=json&encrypt=3DES&sign={}", sign.replace(':', "%3A"));
        let n2 = v.parse_at(&q, ct.as_bytes(), now).expect("encrypted");
        assert_eq!(n, n2);
    }

    #[test]
    fn a_compressed_or_empty_body_is_said_to_be_so() {
        let now = 1_800_000_000_000u64;
        let sign = envelope::sign_body(&key(), &now.to_string(), BODY).expect("sign");
        let v = NotificationVerifier::new(key());
        let q = format!("sign={sign}");
        for (body, says) in [
            (&[0x1f, 0x8b, 0x08, 0x00, 0xff][..], "gzip-compressed"),
            (b"", "body is empty"),
            (b" \r\n", "body is empty"),
        ] {
            match v.parse_at(&q, body, now) {
                Err(Error::Decode { reason, .. }) => assert!(reason.contains(says), "{reason}"),
                other => panic!("{says}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_panicking_handler_releases_its_claim() {
        let now = 1_800_000_000_000u64;
        let sign = envelope::sign_body(&key(), &now.to_string(), BODY).expect("sign");
        let n = NotificationVerifier::new(key())
            .parse_at(&format!("sign={sign}"), BODY.as_bytes(), now)
            .expect("notification");
        let store = MemoryIdempotencyStore::new();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: Result<Delivery> = process_once(&store, &n, |_| panic!("a bug in the handler"));
        }));
        assert!(panicked.is_err());
        // The next delivery runs the handler (not `InProgress` for the rest of the process).
        let mut ran = 0;
        let d: Result<Delivery> = process_once(&store, &n, |_| {
            ran += 1;
            Ok(())
        });
        assert_eq!((d.ok(), ran), (Some(Delivery::Processed), 1));
        let again: Result<Delivery> = process_once(&store, &n, |_| Ok(()));
        assert_eq!(again.ok(), Some(Delivery::Duplicate));
    }

    #[test]
    fn a_verifier_for_one_merchant_refuses_another_merchants_or_an_unnamed_order() {
        let now = 1_800_000_000_000u64;
        let deliver = |v: &NotificationVerifier, body: &str| {
            let sign = envelope::sign_body(&key(), &now.to_string(), body).expect("sign");
            v.parse_at(&format!("_type=json&sign={sign}"), body.as_bytes(), now)
        };
        let any = NotificationVerifier::new(key());
        assert_eq!(any.busi_code(), None);
        let ours = NotificationVerifier::new(key())
            .with_busi_code("0010000001")
            .expect("code");
        assert_eq!(ours.busi_code(), Some("0010000001"));
        let n = deliver(&ours, BODY).expect("our merchant's");
        assert_eq!(n.order.busi_id.as_deref(), Some("0010000001"));
        let theirs = NotificationVerifier::new(key())
            .with_busi_code_opt(Some("0010000002"))
            .expect("code");
        match deliver(&theirs, BODY) {
            Err(Error::Decode { reason, operation }) => {
                assert!(
                    reason.contains(r#"BUSI_ID "0010000001", not "0010000002""#),
                    "{reason}"
                );
                assert!(operation.is_empty());
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
        let unnamed = BODY.replace(r#""BUSI_ID":"0010000001","#, "");
        assert!(
            deliver(&any, &unnamed).is_ok(),
            "no merchant asked for: the key is the proof"
        );
        match deliver(&ours, &unnamed) {
            Err(Error::Decode { reason, .. }) => {
                assert!(reason.contains("names no BUSI_ID"), "{reason}")
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
        for bad in ["", " ", "a/b"] {
            match NotificationVerifier::new(key()).with_busi_code(bad) {
                Err(Error::Validation { field, .. }) => assert_eq!(field, "busi_code"),
                other => panic!("expected a validation error for {bad:?}, got {other:?}"),
            }
        }
        let same = NotificationVerifier::new(key())
            .with_busi_code_opt(None)
            .expect("none");
        assert_eq!(same.busi_code(), None);
    }

    #[test]
    fn a_key_being_rotated_out_is_accepted_when_given() {
        let now = 1_800_000_000_000u64;
        let old = key();
        let new = MerchantKey::new("NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY12").expect("key");
        let stranger = MerchantKey::new("STRANGERSTRANGERSTRANGER").expect("key");
        let sign_with = |k: &MerchantKey| {
            envelope::sign_body(k, &now.to_string(), BODY)
                .expect("sign")
                .replace(':', "%3A")
        };
        let only_new = NotificationVerifier::new(new.clone());
        let rotating = NotificationVerifier::new(new.clone())
            .with_previous_key(old.clone())
            .expect("previous");
        assert_eq!(rotating.previous_keys(), 1);
        for encrypted in [false, true] {
            let deliver = |v: &NotificationVerifier, k: &MerchantKey| {
                let (q, body) = if encrypted {
                    (
                        format!("encrypt=3DES&sign={}", sign_with(k)),
                        Envelope::new(k.clone()).encrypt(BODY.as_bytes()),
                    )
                } else {
                    (format!("sign={}", sign_with(k)), BODY.to_owned())
                };
                v.parse_at(&q, body.as_bytes(), now)
            };
            // Signed (and encrypted) with the old key: refused by the new key alone, accepted
            // while the old one is being rotated out; the new key's own deliveries too.
            let e = deliver(&only_new, &old).expect_err("old key");
            assert!(
                matches!(e, Error::Signature { .. } | Error::Crypto { .. }),
                "{e:?}"
            );
            let n = deliver(&rotating, &old).expect("old key, rotating");
            assert_eq!(n.order.charge_code.as_deref(), Some("C-1"));
            assert_eq!(deliver(&rotating, &new).expect("new key"), n);
            // Any other key is still refused, with the current key's error.
            let e = deliver(&rotating, &stranger).expect_err("stranger");
            assert_eq!(
                std::mem::discriminant(&e),
                std::mem::discriminant(&deliver(&only_new, &stranger).expect_err("stranger"))
            );
        }
        // The current key again, or a repeat, is not another key; at most MAX_PREVIOUS_KEYS.
        let mut v = NotificationVerifier::new(new.clone())
            .with_previous_key(new)
            .expect("same")
            .with_previous_key(old.clone())
            .expect("old")
            .with_previous_key(old)
            .expect("repeat");
        assert_eq!(v.previous_keys(), 1);
        for i in 1..MAX_PREVIOUS_KEYS {
            v = v
                .with_previous_key(
                    MerchantKey::new(format!("PREVIOUSKEY{i:02}PREVIOUSKEY")).expect("key"),
                )
                .expect("below the limit");
        }
        match v.with_previous_key(stranger) {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "previous_keys"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn rejects_tampered_wrong_key_stale() {
        let now = 1_800_000_000_000u64;
        let sign = envelope::sign_body(&key(), &now.to_string(), BODY).expect("sign");
        let v = NotificationVerifier::new(key());
        let q = format!("sign={sign}");
        let tampered = BODY.replace("\"AMT\":1", "\"AMT\":100");
        assert!(matches!(
            v.parse_at(&q, tampered.as_bytes(), now),
            Err(Error::Signature { .. })
        ));
        let other = NotificationVerifier::new(MerchantKey::new("OTHERKEY").expect("key"));
        assert!(matches!(
            other.parse_at(&q, BODY.as_bytes(), now),
            Err(Error::Signature { .. })
        ));
        assert!(matches!(
            v.parse_at(&q, BODY.as_bytes(), now + 301_000),
            Err(Error::Signature { .. })
        ));
        assert!(v
            .clone()
            .with_max_age(Duration::ZERO)
            .parse_at(&q, BODY.as_bytes(), now + 301_000)
            .is_ok());
        // 10-digit (seconds) timestamps work too.
        let sec = (now / 1000).to_string();
        let sign_s = envelope::sign_body(&key(), &sec, BODY).expect("sign");
        assert!(v
            .parse_at(&format!("sign={sign_s}"), BODY.as_bytes(), now + 5_000)
            .is_ok());
        assert!(v.parse_at("", BODY.as_bytes(), now).is_err());
    }

    const NOW: u64 = 1_800_000_000_000;

    /// A delivery of `body` signed over `signed` (usually the same text).
    fn deliver(signed: &str, body: &str) -> Result<Notification> {
        let sign = envelope::sign_body(&key(), &NOW.to_string(), signed).expect("sign");
        NotificationVerifier::new(key()).parse_at(&format!("sign={sign}"), body.as_bytes(), NOW)
    }

    fn decode_reason(r: Result<Notification>) -> String {
        match r {
            Err(Error::Decode { reason, .. }) => reason,
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[test]
    fn slash_fallback_accepts_the_vendor_form() {
        // The vendor signs, then its serializer escapes '/' as "\/".
        let body = r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-2","STATE":1,"AMT":5,"PAY_SUBJECT":"a\/b","NOTE":"http:\/\/x.cn\/n?a=1","MERCHANTPARA":"a\\\/b"}}"#;
        let signed = body.replace("\\/", "/");
        assert_ne!(signed, body);
        let n = deliver(&signed, body).expect("fallback");
        assert_eq!(n.order.pay_subject.as_deref(), Some("a/b"));
        assert_eq!(n.raw["PAY_NODIFY"]["NOTE"], "http://x.cn/n?a=1");
        // An escaped backslash before a '/': the value is `a\/b` either way.
        assert_eq!(n.order.merchant_para.as_deref(), Some("a\\/b"));
        assert_eq!(n, Notification::decode(body).expect("decode"));
        // In XML a backslash is literal: what is decoded is the text that was signed.
        let xml = "<PAY_NODIFY><CHARGE_CODE>C-3</CHARGE_CODE><STATE>1</STATE><AMT>5</AMT><PAY_SUBJECT>a\\/b</PAY_SUBJECT></PAY_NODIFY>";
        let n = deliver(&xml.replace("\\/", "/"), xml).expect("xml fallback");
        assert_eq!(n.order.pay_subject.as_deref(), Some("a/b"));
    }

    #[test]
    fn forged_body_with_escaped_quotes_is_refused() {
        // Escaping the quotes of a run of fields turns them into part of PAY_SUBJECT's string:
        // STATE and AMT vanish, and removing every backslash gives back the signed body.
        let signed = r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-4","PAY_SUBJECT":"x","STATE":1,"AMT":100,"OPER_ID":"y"}}"#;
        let forged = r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-4","PAY_SUBJECT":"x\",\"STATE\":1,\"AMT\":100,\"OPER_ID\":\"y"}}"#;
        assert_eq!(forged.replace('\\', ""), signed);
        let decoded = Notification::decode(signed).expect("the signed body");
        assert!(decoded.order.state.is_some());
        let e = deliver(signed, forged).expect_err("forged");
        assert!(matches!(e, Error::Signature { .. }), "{e:?}");
        assert!(!e.outcome_unknown());
        // The same with '/' in it: the slash fallback does not undo the quote escapes.
        let forged2 = forged.replace("\"y", "\"y\\/z");
        assert!(matches!(
            deliver(&signed.replace("\"y", "\"y/z"), &forged2),
            Err(Error::Signature { .. })
        ));
    }

    #[test]
    fn xml_backslash_in_charge_code_is_refused() {
        let signed = "<PAY_NODIFY><BUSI_ID>B1</BUSI_ID><CHARGE_CODE>ORDER-7</CHARGE_CODE><STATE>1</STATE><AMT>100</AMT></PAY_NODIFY>";
        let forged = signed.replace("ORDER-7", "ORDER\\-7");
        let store = MemoryIdempotencyStore::new();
        let mut runs = 0;
        let n = deliver(signed, signed).expect("genuine");
        assert_eq!(n.idempotency_key(), "B1:ORDER-7:1:100");
        // The fields every notification has, and the order's copies of them.
        assert_eq!(
            (n.charge_code.as_str(), &n.state, n.amount.fen()),
            ("ORDER-7", &crate::OrderState::Paid, 100)
        );
        assert_eq!(n.order.charge_code.as_deref(), Some("ORDER-7"));
        assert_eq!(
            (n.order.state.as_ref(), n.order.amount),
            (Some(&n.state), Some(n.amount))
        );
        process_once::<_, _, Error>(&store, &n, |_| {
            runs += 1;
            Ok(())
        })
        .expect("process");
        let e = deliver(signed, &forged).expect_err("ORDER\\-7");
        assert!(matches!(e, Error::Signature { .. }), "{e:?}");
        assert!(!e.outcome_unknown());
        assert_eq!(runs, 1);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn missing_required_fields_are_refused_naming_them() {
        let full = r#"{"PAY_NODIFY":{"BUSI_ID":"B1","CHARGE_CODE":"C-5","STATE":"1","AMT":"100"}}"#;
        assert!(deliver(full, full).is_ok());
        for (field, json) in [
            ("CHARGE_CODE", full.replace(r#""CHARGE_CODE":"C-5","#, "")),
            ("CHARGE_CODE", full.replace(r#""C-5""#, r#""""#)),
            ("STATE", full.replace(r#""STATE":"1","#, "")),
            ("STATE", full.replace(r#""STATE":"1""#, r#""STATE":null"#)),
            ("AMT", full.replace(r#","AMT":"100""#, "")),
            ("AMT", full.replace(r#""AMT":"100""#, r#""AMT":"  ""#)),
        ] {
            let reason = decode_reason(deliver(&json, &json));
            assert!(reason.contains(field), "{json}: {reason}");
            assert_eq!(decode_reason(Notification::decode(&json)), reason);
        }
        let xml =
            "<PAY_NODIFY><CHARGE_CODE>C-5</CHARGE_CODE><STATE>1</STATE><AMT>100</AMT></PAY_NODIFY>";
        assert!(deliver(xml, xml).is_ok());
        for (field, x) in [
            (
                "CHARGE_CODE",
                xml.replace("<CHARGE_CODE>C-5</CHARGE_CODE>", ""),
            ),
            ("STATE", xml.replace("<STATE>1</STATE>", "<STATE/>")),
            ("AMT", xml.replace("<AMT>100</AMT>", "")),
        ] {
            let reason = decode_reason(deliver(&x, &x));
            assert!(reason.contains(field), "{x}: {reason}");
        }
    }

    #[test]
    fn duplicate_fields_are_refused() {
        let cases = [
            // JSON: the same key twice (serde_json would keep only one), case variants, nested.
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-6","STATE":"0","AMT":"100","STATE":"1"}}"#,
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-6","STATE":"0","AMT":"100","state":"1"}}"#,
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-6","charge_code":"C-7","STATE":"1","AMT":"100"}}"#,
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-6","STATE":"1","AMT":"1","FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"0.01","amount":"9.00"}]}}}"#,
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-6","STATE":"1","AMT":"1"},"pay_nodify":{"CHARGE_CODE":"C-7","STATE":"1","AMT":"1"}}"#,
            // A field renamed by whitespace (the signature ignores whitespace).
            r#"{"PAY_NODIFY":{"BUSI _ID":"B1","CHARGE_CODE":"C-6","STATE":"1","AMT":"1"}}"#,
            // XML: a repeated scalar element, case variants.
            "<PAY_NODIFY><CHARGE_CODE>C-6</CHARGE_CODE><STATE>0</STATE><STATE>1</STATE><AMT>1</AMT></PAY_NODIFY>",
            "<PAY_NODIFY><CHARGE_CODE>C-6</CHARGE_CODE><STATE>1</STATE><AMT>1</AMT><AMT>100</AMT></PAY_NODIFY>",
            "<PAY_NODIFY><CHARGE_CODE>C-6</CHARGE_CODE><STATE>1</STATE><state>0</state><AMT>1</AMT></PAY_NODIFY>",
            "<PAY_NODIFY><CHARGE_CODE>C-6</CHARGE_CODE><CHARGE_CODE>C-7</CHARGE_CODE><STATE>1</STATE><AMT>1</AMT></PAY_NODIFY>",
        ];
        for body in cases {
            // Signed as they are: the signature is fine, the body is ambiguous.
            let reason = decode_reason(deliver(body, body));
            assert!(
                reason.contains("twice")
                    || reason.contains("repeated")
                    || reason.contains("whitespace"),
                "{body}: {reason}"
            );
            assert!(Notification::decode(body).is_err(), "{body}");
        }
        // Repeated list items are not duplicates.
        let xml = "<PAY_NODIFY><CHARGE_CODE>C-6</CHARGE_CODE><STATE>1</STATE><AMT>2</AMT>\
            <GOODS_DETAIL><GOOD_ID>g1</GOOD_ID><GOOD_PRICE>1</GOOD_PRICE></GOODS_DETAIL>\
            <GOODS_DETAIL><GOOD_ID>g2</GOOD_ID><GOOD_PRICE>1</GOOD_PRICE></GOODS_DETAIL>\
            <FUND_BILL_LIST><TRADEFUNDBILL><FUND_CHANNEL>10</FUND_CHANNEL><AMOUNT>0.01</AMOUNT></TRADEFUNDBILL>\
            <TRADEFUNDBILL><FUND_CHANNEL>11</FUND_CHANNEL><AMOUNT>0.01</AMOUNT></TRADEFUNDBILL></FUND_BILL_LIST></PAY_NODIFY>";
        let n = deliver(xml, xml).expect("lists");
        assert_eq!(n.order.goods.len(), 2);
        assert_eq!(n.order.fund_bills.len(), 2);
    }

    #[test]
    fn idempotency_key_comes_from_the_verified_parsed_fields() {
        let json = r#"{"PAY_NODIFY":{"BUSI_ID":"B1","CHARGE_CODE":"ORDER-7","STATE":1,"AMT":100}}"#;
        let xml = "<PAY_NODIFY><BUSI_ID>B1</BUSI_ID><CHARGE_CODE>ORDER-7</CHARGE_CODE><STATE>1</STATE><AMT>100</AMT></PAY_NODIFY>";
        // Spelled differently on the wire, the same fields: one key.
        let escaped = r#"{"PAY_NODIFY":{"BUSI_ID":"B1","CHARGE_CODE":"ORDER\u002d7","STATE":"1","AMT":"100"}}"#;
        let store = MemoryIdempotencyStore::new();
        let mut runs = 0;
        for (signed, body) in [
            (json.to_owned(), json.to_owned()),
            (xml.to_owned(), xml.to_owned()),
            (escaped.to_owned(), escaped.to_owned()),
            // Whitespace around a value is not part of it.
            (xml.to_owned(), xml.replace("ORDER-7", "\n ORDER-7 ")),
        ] {
            let n = deliver(&signed, &body).expect("verified");
            assert_eq!(n.idempotency_key(), "B1:ORDER-7:1:100", "{body}");
            process_once::<_, _, Error>(&store, &n, |_| {
                runs += 1;
                Ok(())
            })
            .expect("process");
        }
        assert_eq!(runs, 1);
        // Whitespace slipped into a code still verifies (the signature ignores it): refused,
        // so that it neither reaches the handler under a name no order has nor claims the key
        // the genuine delivery needs.
        for (signed, body) in [
            (json.to_owned(), json.replace("ORDER-7", "ORDER- 7")),
            (xml.to_owned(), xml.replace("ORDER-7", "\n ORDER -7")),
            (xml.to_owned(), xml.replace("ORDER-7", "ORDER\t-7")),
            (json.to_owned(), json.replace("\"B1\"", "\"B 1\"")),
            (
                xml.replace("<AMT>", "<DYNAMIC_ID>1307</DYNAMIC_ID><AMT>"),
                xml.replace("<AMT>", "<DYNAMIC_ID>13\t07</DYNAMIC_ID><AMT>"),
            ),
        ] {
            let e = deliver(&signed, &body).expect_err("a code altered in transit");
            assert!(matches!(e, Error::Signature { .. }), "{body}: {e:?}");
            assert!(e.to_string().contains("whitespace"), "{e}");
        }
        let n = deliver(json, json).expect("the genuine delivery");
        assert_eq!(n.order.charge_code.as_deref(), Some("ORDER-7"));
        // A slash escaped in XML (accepted through the fallback) decodes as what was signed.
        let slash = xml.replace("ORDER-7", "ORDER/7");
        let n = deliver(&slash, &slash.replace("ORDER/7", "ORDER\\/7")).expect("fallback");
        assert_eq!(n.idempotency_key(), "B1:ORDER/7:1:100");
        // A later state is a new event.
        let refunded = json.replace("\"STATE\":1", "\"STATE\":3");
        let n = deliver(&refunded, &refunded).expect("refunded");
        assert_eq!(n.idempotency_key(), "B1:ORDER-7:3:100");
        // So is the same state for another amount: refusing one must not make the other done.
        let other = json.replace("\"AMT\":100", "\"AMT\":1");
        let n = deliver(&other, &other).expect("another amount");
        assert_eq!(n.idempotency_key(), "B1:ORDER-7:1:1");
    }

    #[test]
    fn signature_errors_leave_no_outcome_unknown() {
        let e = deliver(BODY, &BODY.replace("C-1", "C-2")).expect_err("altered");
        assert!(matches!(e, Error::Signature { .. }));
        assert!(!e.outcome_unknown());
        assert!(!e.is_retryable());
        // Nor do notifications that cannot be read or decrypted: nothing was asked of the
        // gateway, so nothing is unknown.
        let no_amount = r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-1","STATE":1}}"#;
        let unreadable = [
            deliver(no_amount, no_amount),
            deliver("{}", "{}"),
            deliver("", ""),
        ];
        for r in unreadable {
            let e = r.expect_err("unreadable");
            assert!(
                matches!(e, Error::Decode { .. } | Error::Crypto { .. }),
                "{e:?}"
            );
            assert!(!e.outcome_unknown(), "{e:?}");
        }
        // A plain delivery (no encrypt=3DES) that is not JSON or XML says so, not "Base64".
        for body in ["hello", "[1,2]"] {
            match deliver(body, body) {
                Err(Error::Decode { reason, .. }) => {
                    assert!(reason.contains("not JSON or XML"), "{reason}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    fn signed(body: &str, now: u64) -> String {
        format!(
            "sign={}",
            envelope::sign_body(&key(), &now.to_string(), body).expect("sign")
        )
    }

    #[test]
    fn fallback_removes_only_escaped_slashes() {
        let now = 1_800_000_000_000u64;
        let v = NotificationVerifier::new(key());
        // A forger escapes the quotes around STATE and AMT: with every backslash removed the
        // signed text is the genuine body, but the fields vanish into PAY_SUBJECT's string.
        let genuine = r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-3","PAY_SUBJECT":"x","STATE":1,"AMT":5,"END_TIME":"y"}}"#;
        let q = signed(genuine, now);
        let forged = r#"{"PAY_NODIFY":{"CHARGE_CODE":"C-3","PAY_SUBJECT":"x\",\"STATE\":1,\"AMT\":5,\"END_TIME\":\"y"}}"#;
        let stripped: String = forged.chars().filter(|c| *c != '\\').collect();
        assert_eq!(stripped, genuine, "the attack's premise");
        assert!(matches!(
            v.parse_at(&q, forged.as_bytes(), now),
            Err(Error::Signature { .. })
        ));
        // XML: ORDER\-7 is not ORDER-7.
        let xml = "<PAY_NODIFY><CHARGE_CODE>ORDER-7</CHARGE_CODE><STATE>1</STATE><AMT>5</AMT></PAY_NODIFY>";
        let q = signed(xml, now);
        assert!(v.parse_at(&q, xml.as_bytes(), now).is_ok());
        let escaped = xml.replace("ORDER-7", "ORDER\\-7");
        assert!(matches!(
            v.parse_at(&q, escaped.as_bytes(), now),
            Err(Error::Signature { .. })
        ));
    }

    #[test]
    fn required_fields_and_duplicates_are_refused() {
        let now = 1_800_000_000_000u64;
        let v = NotificationVerifier::new(key());
        let refused =
            |body: &str, needle: &str| match v.parse_at(&signed(body, now), body.as_bytes(), now) {
                Err(Error::Decode { reason, .. }) => {
                    assert!(reason.contains(needle), "{body}: {reason}")
                }
                other => panic!("{body}: {other:?}"),
            };
        refused(r#"{"PAY_NODIFY":{"STATE":1,"AMT":5}}"#, "CHARGE_CODE");
        refused(r#"{"PAY_NODIFY":{"CHARGE_CODE":"C","AMT":5}}"#, "STATE");
        refused(r#"{"PAY_NODIFY":{"CHARGE_CODE":"C","STATE":1}}"#, "AMT");
        refused(
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C","STATE":"","AMT":5}}"#,
            "STATE",
        );
        refused(
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C","STATE":1,"AMT":5,"STATE":6}}"#,
            "STATE",
        );
        refused(
            r#"{"PAY_NODIFY":{"CHARGE_CODE":"C","STATE":1,"AMT":5,"state":6}}"#,
            "twice",
        );
        refused(
            "<PAY_NODIFY><CHARGE_CODE>C</CHARGE_CODE><STATE>1</STATE><STATE>6</STATE><AMT>5</AMT></PAY_NODIFY>",
            "STATE",
        );
        // Repeated list items are not duplicates.
        let ok = "<PAY_NODIFY><CHARGE_CODE>C</CHARGE_CODE><STATE>1</STATE><AMT>5</AMT><FUND_BILL_LIST><TRADEFUNDBILL><FUND_CHANNEL>10</FUND_CHANNEL><AMOUNT>0.01</AMOUNT></TRADEFUNDBILL><TRADEFUNDBILL><FUND_CHANNEL>11</FUND_CHANNEL><AMOUNT>0.04</AMOUNT></TRADEFUNDBILL></FUND_BILL_LIST></PAY_NODIFY>";
        let n = v
            .parse_at(&signed(ok, now), ok.as_bytes(), now)
            .expect("list");
        assert_eq!(n.order.fund_bills.len(), 2);
        assert_eq!(
            n.idempotency_key(),
            ":C:1:5",
            "built from the parsed fields"
        );
    }

    #[test]
    fn processes_once() {
        let n = Notification::decode(BODY).expect("decode");
        let store = MemoryIdempotencyStore::new();
        let mut count = 0;
        for _ in 0..30 {
            let d = process_once::<_, _, Error>(&store, &n, |_| {
                count += 1;
                Ok(())
            })
            .expect("process");
            assert_eq!(d.http_status(), 200);
        }
        assert_eq!(count, 1);
        // A failing handler releases the claim.
        let n2 = Notification::decode(&BODY.replace("C-1", "C-9")).expect("decode");
        let r = process_once::<_, _, Error>(&store, &n2, |_| Err(Error::decode("db down")));
        assert!(r.is_err());
        assert_eq!(
            process_once::<_, _, Error>(&store, &n2, |_| Ok(())).expect("retry"),
            Delivery::Processed
        );
    }

    #[test]
    fn query_parsing() {
        let q = parse_query("?_type=json&sign=ab%3A12&x=a+b&sign=second");
        assert_eq!(q.get("sign").map(String::as_str), Some("ab:12"));
        assert_eq!(q.get("x").map(String::as_str), Some("a b"));
        assert_eq!(parse_query("%").get("%").map(String::as_str), Some(""));
    }

    #[test]
    fn a_query_giving_the_signature_twice_is_refused_whatever_the_order() {
        let now = 1_800_000_000_000u64;
        let good = envelope::sign_body(&key(), &now.to_string(), BODY).expect("sign");
        let bad = format!("{}:{now}", "0".repeat(32));
        let v = NotificationVerifier::new(key());
        assert!(v
            .parse_at(&format!("sign={good}"), BODY.as_bytes(), now)
            .is_ok());
        // Any two spellings, any order, even the same value twice: which one the gateway meant
        // cannot be told (the answer must not depend on a map's iteration order).
        for q in [
            format!("sign={good}&SIGN={bad}"),
            format!("SIGN={bad}&sign={good}"),
            format!("sign={bad}&SIGN={good}"),
            format!("Sign={good}&sign={good}"),
            format!("sign={good}&sign={bad}"),
            format!("_type=json&sign={good}&x=1&sIgN={good}"),
        ] {
            for _ in 0..4 {
                match v.parse_at(&q, BODY.as_bytes(), now) {
                    Err(e @ Error::Signature { .. }) => {
                        assert!(e.to_string().contains("more than once"), "{q}: {e}");
                        assert!(!e.outcome_unknown());
                    }
                    other => panic!("{q}: {other:?}"),
                }
            }
        }
        // `encrypt` twice: refused when the values differ (3DES or not?), one value is that value.
        let ct = Envelope::new(key()).encrypt(BODY.as_bytes());
        for q in [
            format!("encrypt=3DES&ENCRYPT=none&sign={good}"),
            format!("ENCRYPT=none&encrypt=3DES&sign={good}"),
            format!("encrypt=3DES&encrypt=&sign={good}"),
        ] {
            assert!(
                matches!(
                    v.parse_at(&q, ct.as_bytes(), now),
                    Err(Error::Signature { .. })
                ),
                "{q}"
            );
        }
        let q = format!("encrypt=3DES&Encrypt=3des&sign={good}");
        assert!(v.parse_at(&q, ct.as_bytes(), now).is_ok(), "{q}");
    }

    #[test]
    fn a_tiny_replay_window_is_a_window_not_off() {
        let now = 1_800_000_000_000u64;
        let sign = envelope::sign_body(&key(), &now.to_string(), BODY).expect("sign");
        let q = format!("sign={sign}");
        // As a binding gives it (Python: seconds): 1e-10 s is the shortest window, not 0.
        let tiny = crate::units::duration("max_age", 1e-10, crate::units::TimeUnit::Seconds)
            .expect("in range");
        assert!(!tiny.is_zero());
        let v = NotificationVerifier::new(key()).with_max_age(tiny);
        assert!(v.parse_at(&q, BODY.as_bytes(), now).is_ok(), "at once");
        assert!(matches!(
            v.parse_at(&q, BODY.as_bytes(), now + 1_000),
            Err(Error::Signature { .. })
        ));
        // Under a millisecond through the Rust API too.
        let v = NotificationVerifier::new(key()).with_max_age(Duration::from_micros(300));
        assert!(matches!(
            v.parse_at(&q, BODY.as_bytes(), now + 1_000),
            Err(Error::Signature { .. })
        ));
        // Zero is off.
        let zero =
            crate::units::duration("max_age", 0.0, crate::units::TimeUnit::Seconds).expect("zero");
        let v = NotificationVerifier::new(key()).with_max_age(zero);
        assert!(v.parse_at(&q, BODY.as_bytes(), now + 10_000_000).is_ok());
    }
}
