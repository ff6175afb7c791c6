//! The shared idempotency stores' wire: the Redis scripts and record formats and the PostgreSQL
//! schema and statements of Python's and Node's `RedisIdempotencyStore` and
//! `PostgresIdempotencyStore`. Each language runs them through its own driver (redis-py,
//! node-redis / ioredis, psycopg, node-postgres); they are written once, here, so that Python
//! and Node workers sharing one store agree on every record. The contract they implement (claim
//! with a lease, complete, abandon) is in `docs/BEHAVIOUR.md`; the defaults are
//! [`crate::notify::DEFAULT_CLAIM_LEASE`] and [`crate::notify::DEFAULT_RETENTION`].

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The PostgreSQL table, unless the store is given another.
pub const DEFAULT_TABLE: &str = "sosopay_notifications";

/// The Redis key prefix of the records (`{prefix}{id}`), unless the store is given another.
pub const DEFAULT_REDIS_PREFIX: &str = "sosopay:notify:";

/// A live claim's Redis value: `claim:<token>`, set with `NX PX <lease>` (Redis expires it).
pub const CLAIM_PREFIX: &str = "claim:";

/// A processed notification's Redis value: `done:<unix ms>`, set with `PX <retention>`.
pub const DONE_PREFIX: &str = "done:";

/// `complete`: `KEYS[1]` the record; `ARGV[1]` `claim:<token>` (empty: no token), `ARGV[2]`
/// `done:<ms>`, `ARGV[3]` the retention in ms. Returns 1: the claim was ours; 0: recorded although
/// our lease had run out; 2: already done.
pub const REDIS_COMPLETE_LUA: &str = "
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 5) == 'done:' then return 2 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if v == ARGV[1] then return 1 end
return 0
";

/// `abandon`: `KEYS[1]` the record; `ARGV[1]` `claim:<token>`. Deletes it only if it is still that
/// claim.
pub const REDIS_ABANDON_LUA: &str = "
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The schema for [`DEFAULT_TABLE`] (the packages also ship it as `stores/schema.sql`).
pub const POSTGRES_SCHEMA: &str = "\
-- sosopay: once-only processing of payment notifications across worker processes
-- (PostgresIdempotencyStore). One row per notification (Notification.idempotency_key):
--   claimed  a worker is running the handler; the claim is live until lease_until, after
--            which another delivery may take it over (the first worker is presumed dead)
--   done     the handler finished; kept until completed_at + the retention period
-- Apply it once (sosopay.stores.apply_schema, the Node package's applySchema, or psql -f).
-- The same file ships in the Python and the Node package.
CREATE TABLE IF NOT EXISTS sosopay_notifications (
    id           text        PRIMARY KEY,
    state        text        NOT NULL CHECK (state IN ('claimed', 'done')),
    token        text,
    lease_until  timestamptz,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 1,
    CHECK ((state = 'claimed') = (token IS NOT NULL AND lease_until IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS sosopay_notifications_completed_at_idx
    ON sosopay_notifications (completed_at);
";

/// The statements, by name, with `{t}` for the table and `$n` for the parameters:
/// - `begin` (id, token, lease in seconds): a row back means this call took the claim;
/// - `state` (id): the row's state and whether its lease is live (`live`);
/// - `held` (id, token): completes this token's claim (a row count of 1: it was still ours);
/// - `any` (id): records the id as done whoever held it;
/// - `abandon` (id, token): deletes the claim if it is still this token's;
/// - `purge` (retention in seconds): deletes done records older than the retention and claims
///   whose lease ran out that long ago.
const STATEMENTS: [(&str, &str); 6] = [
    (
        "begin",
        "INSERT INTO {t} AS r (id, state, token, lease_until, claimed_at, attempts)
VALUES ($1, 'claimed', $2, now() + make_interval(secs => $3), now(), 1)
ON CONFLICT (id) DO UPDATE
   SET state = 'claimed', token = EXCLUDED.token, lease_until = EXCLUDED.lease_until,
       claimed_at = EXCLUDED.claimed_at, attempts = r.attempts + 1
 WHERE r.state = 'claimed' AND r.lease_until <= now()
RETURNING r.attempts",
    ),
    (
        "state",
        "SELECT state, lease_until > now() AS live FROM {t} WHERE id = $1",
    ),
    (
        "held",
        "UPDATE {t} SET state = 'done', token = NULL, lease_until = NULL, completed_at = now()
 WHERE id = $1 AND state = 'claimed' AND token = $2",
    ),
    (
        "any",
        "INSERT INTO {t} AS r (id, state, completed_at) VALUES ($1, 'done', now())
ON CONFLICT (id) DO UPDATE
   SET state = 'done', token = NULL, lease_until = NULL, completed_at = now()
 WHERE r.state = 'claimed'",
    ),
    (
        "abandon",
        "DELETE FROM {t} WHERE id = $1 AND state = 'claimed' AND token = $2",
    ),
    (
        "purge",
        "DELETE FROM {t}
 WHERE (state = 'done' AND completed_at < now() - make_interval(secs => $1))
    OR (state = 'claimed' AND lease_until < now() - make_interval(secs => $1))",
    ),
];

/// How a driver writes its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1, $2, ...` (node-postgres), each number its parameter.
    Numbered,
    /// `%s` (psycopg and every DB-API "format" driver), the parameters in order of appearance.
    Format,
}

/// Checks a table name: letters, digits and `_`, starting with a letter or `_`, at most 63
/// characters, optionally `schema.table`. Nothing else reaches a statement.
pub fn check_table(table: &str) -> Result<&str> {
    let ident = |s: &str| {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && s.len() <= 63
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let ok = match table.split_once('.') {
        Some((schema, name)) => ident(schema) && ident(name),
        None => ident(table),
    };
    if ok {
        Ok(table)
    } else {
        Err(Error::validation(
            "table",
            format!("{table:?} is not a table name (letters, digits and _; schema.table allowed)"),
        ))
    }
}

/// The schema for `table`.
pub fn postgres_schema(table: &str) -> Result<String> {
    Ok(POSTGRES_SCHEMA.replace(DEFAULT_TABLE, check_table(table)?))
}

/// The statements (see the list above) for `table`, by name, written for the driver's
/// placeholders. Every statement's parameters appear in order, so `%s` in order of appearance
/// means the same as the numbers.
pub fn postgres_statements(
    table: &str,
    style: Placeholders,
) -> Result<Vec<(&'static str, String)>> {
    let table = check_table(table)?;
    Ok(STATEMENTS
        .iter()
        .map(|(name, sql)| {
            let sql = sql.replace("{t}", table);
            let sql = match style {
                Placeholders::Numbered => sql,
                Placeholders::Format => format_placeholders(&sql),
            };
            (*name, sql)
        })
        .collect())
}

/// `$1`, `$2`, ... as `%s`, each occurrence (a parameter used twice is passed twice).
fn format_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push_str("%s");
        } else {
            out.push(c);
        }
    }
    out
}

/// How often `begin` tries to claim a record that vanished between its two steps (its lease ran
/// out or it was released in between) before answering "in progress".
pub const BEGIN_TRIES: u32 = 5;

/// When a shared store tries again after its server could not be reached (Python's and Node's
/// Redis and PostgreSQL stores). Each call retries once at once (a pooled connection may be stale
/// after a server restart). `complete` then keeps trying, 50 ms apart doubling up to 1 s, while
/// 90 % of the claim's lease lasts: the outcome must be recorded before another delivery may take
/// the claim over. Every other call gives up after the immediate retry.
#[derive(Debug, Clone)]
pub struct StoreRetry {
    failures: u32,
    wait: Duration,
    until: Option<Instant>,
}

impl StoreRetry {
    /// The first wait between two attempts after the immediate retry.
    pub const FIRST_WAIT: Duration = Duration::from_millis(50);
    /// The longest wait between two attempts.
    pub const MAX_WAIT: Duration = Duration::from_secs(1);

    /// A call that gives up after the immediate retry (`begin`, `abandon`, `status`, `purge`).
    pub fn once() -> Self {
        StoreRetry {
            failures: 0,
            wait: Self::FIRST_WAIT,
            until: None,
        }
    }

    /// `complete` of a claim taken `held_for` ago under `lease`: it keeps trying until 90 % of
    /// the lease has passed since the claim was taken.
    pub fn for_complete(lease: Duration, held_for: Duration) -> Self {
        let left = lease.mul_f64(0.9).saturating_sub(held_for);
        StoreRetry {
            until: Instant::now().checked_add(left),
            ..Self::once()
        }
    }

    /// After a failed attempt: `Some(wait)` to try again after `wait` (zero after the first
    /// failure), `None` to give up (the store is unavailable: answer the gateway 503).
    pub fn after_failure(&mut self) -> Option<Duration> {
        self.failures += 1;
        if self.failures == 1 {
            return Some(Duration::ZERO);
        }
        let wait = self.wait;
        match self.until {
            Some(until) if Instant::now() + wait <= until => {
                self.wait = (wait * 2).min(Self::MAX_WAIT);
                Some(wait)
            }
            _ => None,
        }
    }

    /// After an attempt that got no answer in time (a command timeout, a connect timeout, a
    /// pool with no free connection): as [`StoreRetry::after_failure`], but never at once. The
    /// immediate retry is for a stale pooled connection, which fails fast; a server that does
    /// not answer now would only double the wait before the gateway gets its answer (503).
    /// `complete` still keeps trying while the lease lasts.
    pub fn after_timeout(&mut self) -> Option<Duration> {
        self.failures = self.failures.max(1);
        self.after_failure()
    }

    /// Whether `complete`'s `answer` (`"held"`, `"lost"` or `"already"`, from the store's
    /// atomic step) means the claim had outlived its lease and another delivery may have run
    /// the handler too, so that the store warns ([`lease_lost_warning`]). `"lost"` says so
    /// itself. `"already"` says so when the caller held a claim (`with_token`) and it came at
    /// the first attempt: another worker took the expired claim and completed first. After a
    /// failed attempt it may be this call's own earlier write, whose answer was lost: not a
    /// lost lease then.
    pub fn lease_lost(&self, answer: &str, with_token: bool) -> bool {
        answer == "lost" || (answer == "already" && with_token && self.failures == 0)
    }
}

/// Whether a PostgreSQL error is the server's or the network's state rather than the
/// statement's fault, so that the store tries again when [`StoreRetry`] says and then answers
/// the gateway 503: no SQLSTATE at all (a network or pool error, a closed connection), or
/// class 08 (connection exception), 40 (serialization failure, deadlock), 53 (insufficient
/// resources), 57 (shutdown, crash, starting up), 58 (system error), 55P03 (lock not
/// available), or 25006 (read-only transaction: a connection that reached a standby, as during
/// a failover; the PostgreSQL form of Redis' `READONLY`). Python's and Node's PostgreSQL stores
/// both ask this.
pub fn postgres_unavailable(sqlstate: Option<&str>) -> bool {
    match sqlstate {
        None => true,
        Some(code) => {
            code == "55P03"
                || code == "25006"
                || ["08", "40", "53", "57", "58"]
                    .iter()
                    .any(|class| code.len() == 5 && code.starts_with(class))
        }
    }
}

/// Whether a Redis error is the server's state rather than a fault of the command, so that the
/// store tries again when [`StoreRetry`] says and then answers the gateway 503: not a reply
/// of the server at all (`None`: a network error, a timeout), or a reply error (its message)
/// whose code says the server cannot serve now: `LOADING`, `BUSY`, `MASTERDOWN`, `TRYAGAIN`,
/// `READONLY` (a failover under way), `CLUSTERDOWN`. Python's and Node's Redis stores both ask
/// this.
pub fn redis_unavailable(reply_error: Option<&str>) -> bool {
    const TRANSIENT: [&str; 6] = [
        "LOADING",
        "BUSY",
        "MASTERDOWN",
        "TRYAGAIN",
        "READONLY",
        "CLUSTERDOWN",
    ];
    reply_error.is_none_or(|message| {
        let code = message.split_whitespace().next().unwrap_or("");
        TRANSIENT.contains(&code)
    })
}

/// A store's lease or retention (`field` names it as the caller spells it): a finite number of
/// seconds above 0 and under 10^9 s (about 31 years).
pub fn store_duration(field: &str, seconds: f64) -> Result<Duration> {
    if seconds.is_finite() && seconds > 0.0 && seconds < 1.0e9 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(Error::validation(
            field,
            "must be a finite duration above 0 and under 10^9 s",
        ))
    }
}

/// What a store logs when `complete` found that the claim on `id` was no longer the caller's
/// (its token did not match): it outlived its `lease` and another delivery took it over, or
/// the token given was not the one `begin` returned.
pub fn lease_lost_warning(id: &str, lease: Duration) -> String {
    format!(
        "sosopay: the claim on {id} was no longer this delivery's when it completed (it outlived \
         its {:.1} s lease and another delivery took it over, or complete was given another \
         token than begin returned); recorded as done, but another delivery may have run the \
         handler too (raise the store's lease)",
        lease.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_lost_when_complete_finds_the_record_done_by_another_at_its_first_attempt() {
        let lease = Duration::from_secs(60);
        let first = StoreRetry::for_complete(lease, Duration::ZERO);
        assert!(first.lease_lost("lost", false));
        assert!(first.lease_lost("lost", true));
        assert!(first.lease_lost("already", true));
        // Without a claim of its own the caller cannot tell whose completion it was.
        assert!(!first.lease_lost("already", false));
        assert!(!first.lease_lost("held", true));
        // After a failed attempt, "already" may be this call's own write whose answer was lost.
        let mut retried = StoreRetry::for_complete(lease, Duration::ZERO);
        assert_eq!(retried.after_failure(), Some(Duration::ZERO));
        assert!(!retried.lease_lost("already", true));
        assert!(retried.lease_lost("lost", true));
    }

    #[test]
    fn a_timeout_is_not_retried_at_once() {
        assert_eq!(StoreRetry::once().after_timeout(), None);
        let mut c = StoreRetry::for_complete(Duration::from_secs(60), Duration::ZERO);
        assert_eq!(c.after_timeout(), Some(StoreRetry::FIRST_WAIT));
        assert_eq!(c.after_timeout(), Some(StoreRetry::FIRST_WAIT * 2));
        // A fast failure after it is not "the first" any more either.
        assert_eq!(c.after_failure(), Some(StoreRetry::FIRST_WAIT * 4));
        let mut late = StoreRetry::for_complete(Duration::from_millis(10), Duration::ZERO);
        assert_eq!(late.after_timeout(), None);
    }

    #[test]
    fn redis_errors_of_the_server_state_are_unavailable_and_command_errors_are_not() {
        assert!(redis_unavailable(None));
        for m in [
            "LOADING Redis is loading the dataset in memory",
            "BUSY Redis is busy running a script",
            "READONLY You can't write against a read only replica.",
            "TRYAGAIN",
            "MASTERDOWN Link with MASTER is down",
        ] {
            assert!(redis_unavailable(Some(m)), "{m}");
        }
        for m in [
            "ERR unknown command",
            "NOSCRIPT No matching script",
            "WRONGTYPE Operation against a key",
            "BUSYKEY Target key name already exists",
            "",
        ] {
            assert!(!redis_unavailable(Some(m)), "{m}");
        }
    }

    #[test]
    fn postgres_errors_of_the_server_state_are_unavailable_and_statement_errors_are_not() {
        for code in [
            None,
            Some("08006"),
            Some("40001"),
            Some("40P01"),
            Some("53300"),
            Some("53200"),
            Some("57P01"),
            Some("58030"),
            Some("55P03"),
            Some("25006"),
        ] {
            assert!(postgres_unavailable(code), "{code:?}");
        }
        for code in [
            "42P01", "23505", "22P02", "55000", "0800", "XX000", "25001", "25P02",
        ] {
            assert!(!postgres_unavailable(Some(code)), "{code}");
        }
    }

    #[test]
    fn parameters_appear_in_order_so_format_placeholders_mean_the_same() {
        for (name, sql) in STATEMENTS {
            let mut last = 0;
            for part in sql.split('$').skip(1) {
                let n: u32 = part
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .expect("a parameter number");
                assert!(n == last || n == last + 1, "{name}: ${n} after ${last}");
                last = n;
            }
        }
        let purge = &postgres_statements("t", Placeholders::Format).expect("statements")[5].1;
        assert_eq!(purge.matches("%s").count(), 2);
        assert!(!purge.contains('$'));
    }

    #[test]
    fn a_store_retries_once_at_once_then_only_complete_waits_while_the_lease_lasts() {
        let mut once = StoreRetry::once();
        assert_eq!(once.after_failure(), Some(Duration::ZERO));
        assert_eq!(once.after_failure(), None);

        let mut complete = StoreRetry::for_complete(Duration::from_secs(30), Duration::ZERO);
        let waits: Vec<_> = (0..8).map(|_| complete.after_failure()).collect();
        let ms = |n: u64| Some(Duration::from_millis(n));
        assert_eq!(
            waits,
            [
                Some(Duration::ZERO),
                ms(50),
                ms(100),
                ms(200),
                ms(400),
                ms(800),
                ms(1000),
                ms(1000)
            ]
        );
        // A claim held for most of its lease has no time left to retry.
        let mut late = StoreRetry::for_complete(Duration::from_secs(30), Duration::from_secs(27));
        assert_eq!(late.after_failure(), Some(Duration::ZERO));
        assert_eq!(late.after_failure(), None);
    }

    #[test]
    fn store_durations_are_positive_and_named() {
        assert_eq!(
            store_duration("lease", 1.5).expect("ok"),
            Duration::from_millis(1500)
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = store_duration("leaseMs", bad).expect_err("refused");
            assert!(
                matches!(e, Error::Validation { ref field, .. } if field == "leaseMs"),
                "{bad}"
            );
        }
        let w = lease_lost_warning("N-1", Duration::from_secs(30));
        assert!(w.contains("N-1") && w.contains("30.0 s"), "{w}");
    }

    #[test]
    fn table_names_are_identifiers_only() {
        for ok in ["sosopay_notifications", "app.notes", "_t1"] {
            assert!(postgres_schema(ok).expect("schema").contains(ok));
        }
        for bad in ["", "1t", "t;drop table x", "a.b.c", "t-x", &"x".repeat(64)] {
            let e = check_table(bad).expect_err("refused");
            assert!(
                matches!(e, Error::Validation { ref field, .. } if field == "table"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_packages_ship_this_schema() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        for file in ["python/sosopay/stores/schema.sql", "node/stores/schema.sql"] {
            if let Ok(text) = std::fs::read_to_string(format!("{root}/{file}")) {
                assert_eq!(
                    text, POSTGRES_SCHEMA,
                    "{file} differs from the core's schema"
                );
            }
        }
    }
}
