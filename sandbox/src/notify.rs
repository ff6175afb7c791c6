//! Payment notifications (`PAY_NODIFY`): signed, in the format and encryption the merchant's
//! `NODIFY_URL` asks for, retried until HTTP 200 (at most 30 attempts, 5 s apart, scaled).

use std::sync::Arc;
use std::time::Duration;

use sosopay::codec::{self, Format};
use sosopay::envelope::now_millis;
use sosopay::models::Notification;

use crate::faults::{FaultKind, Operation};
use crate::state::{
    now_ms, NotifyAttempt, PendingNotification, Shared, NOTIFY_INTERVAL_SECS, NOTIFY_MAX_ATTEMPTS,
};

/// The HTTP agent used for notifications: statuses are results, not errors; no proxy.
fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_connect(Some(Duration::from_secs(3)))
        .timeout_global(Some(Duration::from_secs(10)))
        .build();
    ureq::Agent::new_with_config(config)
}

/// `(format, encrypted)` from the query of a `NODIFY_URL`: `_type=json` → JSON (else XML),
/// `encrypt=3DES` → 3DES.
pub(crate) fn url_options(url: &str) -> (Format, bool) {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split('#').next().unwrap_or("");
    let mut format = Format::Xml;
    let mut encrypted = false;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k.eq_ignore_ascii_case("_type") && v.eq_ignore_ascii_case("json") {
            format = Format::Json;
        }
        if k.eq_ignore_ascii_case("encrypt") && v.eq_ignore_ascii_case("3DES") {
            encrypted = true;
        }
    }
    (format, encrypted)
}

/// Appends `sign=…` to the URL's query (before any fragment).
pub(crate) fn with_sign(url: &str, sign: &str) -> String {
    let (base, frag) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') {
        if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    let mut out = format!("{base}{sep}sign={sign}");
    if let Some(f) = frag {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Garbles a body deterministically: flips bits in every third byte.
pub(crate) fn garble(body: &mut [u8]) {
    for (i, b) in body.iter_mut().enumerate() {
        if i % 3 == 1 {
            *b ^= 0x5a;
        }
    }
}

/// Cuts a body to its first half.
pub(crate) fn truncate(body: &mut Vec<u8>) {
    let half = body.len() / 2;
    body.truncate(half);
}

fn corrupt_sign(sign: &str) -> String {
    let mut chars: Vec<char> = sign.chars().collect();
    if let Some(c) = chars.first_mut() {
        *c = if *c == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

async fn post(
    agent: ureq::Agent,
    url: String,
    content_type: &'static str,
    body: Vec<u8>,
) -> (Option<u16>, Option<String>) {
    let r = tokio::task::spawn_blocking(move || {
        let resp = agent
            .post(&url)
            .header("Content-Type", content_type)
            .send(&body[..])?;
        let status = resp.status().as_u16();
        // Read (a bounded amount of) the answer so the connection can be reused.
        let mut resp = resp;
        let _ = resp.body_mut().with_config().limit(64 * 1024).read_to_vec();
        Ok::<u16, ureq::Error>(status)
    })
    .await;
    match r {
        Ok(Ok(status)) => (Some(status), None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(e) => (None, Some(format!("delivery task failed: {e}"))),
    }
}

/// Starts the task that delivers every notification the state machine posts to
/// `Shared::outbox`, each on its own task. It ends when the sandbox's state is dropped (the
/// task holds only a weak reference, so it keeps nothing alive).
pub(crate) fn start_deliveries(
    shared: &Arc<Shared>,
    mut outbox: tokio::sync::mpsc::UnboundedReceiver<PendingNotification>,
) {
    let weak = Arc::downgrade(shared);
    let agent = agent();
    shared.rt.spawn(async move {
        while let Some(n) = outbox.recv().await {
            let Some(shared) = weak.upgrade() else { break };
            tokio::spawn(deliver(shared, agent.clone(), n));
        }
    });
}

/// One attempt's URL (with a fresh signature) and body (encrypted when asked), as the
/// attempt's fault (bad signature, garbled or truncated body) shapes them.
fn signed_request(
    n: &PendingNotification,
    plain: &str,
    encrypted: bool,
    fault: Option<&FaultKind>,
) -> (String, Vec<u8>) {
    let ts = now_millis().to_string();
    let mut sign = n.envelope.sign_body(&ts, plain).unwrap_or_default();
    if fault == Some(&FaultKind::BadSign) {
        sign = corrupt_sign(&sign);
    }
    let mut wire = if encrypted {
        n.envelope.encrypt(plain.as_bytes()).into_bytes()
    } else {
        plain.as_bytes().to_vec()
    };
    match fault {
        Some(FaultKind::Garble) => garble(&mut wire),
        Some(FaultKind::Truncate) => truncate(&mut wire),
        _ => {}
    }
    (with_sign(&n.url, &sign), wire)
}

/// Delivers one notification with retries, recording every attempt in the ledger.
async fn deliver(shared: Arc<Shared>, agent: ureq::Agent, n: PendingNotification) {
    let (format, encrypted) = url_options(&n.url);
    let plain = codec::encode(
        format,
        Notification::ROOT,
        &n.details.to_wire_fields().build(),
    );
    let content_type = match (encrypted, format) {
        (true, _) => "text/plain;charset=UTF-8",
        (false, Format::Json) => "application/json;charset=UTF-8",
        (false, Format::Xml) => "text/xml;charset=UTF-8",
    };
    let format_name = match format {
        Format::Json => "json",
        Format::Xml => "xml",
    };
    for attempt in 1..=NOTIFY_MAX_ATTEMPTS {
        let fault = {
            let mut g = shared.lock();
            if g.epoch != n.epoch {
                return;
            }
            let (no, f) = g.next_fault(Operation::Notify);
            if let Some(k) = &f {
                g.record_fault(Operation::Notify, k, no, Some(n.charge_code.clone()));
            }
            f
        };
        if let Some(FaultKind::Delay { ms }) = fault {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let (url, wire) = signed_request(&n, &plain, encrypted, fault.as_ref());
        let sends = if fault == Some(FaultKind::Duplicate) {
            2
        } else {
            1
        };
        let mut accepted = false;
        for copy in 0..sends {
            if copy == 1 && !accepted {
                break;
            }
            let (status, error) =
                post(agent.clone(), url.clone(), content_type, wire.clone()).await;
            accepted = status == Some(200);
            let mut g = shared.lock();
            if g.epoch != n.epoch {
                return;
            }
            g.notifications.push(NotifyAttempt {
                busi_id: n.busi_id.clone(),
                charge_code: n.charge_code.clone(),
                url: n.url.clone(),
                attempt,
                http_status: status,
                error,
                at_ms: now_ms(),
                format: format_name,
                encrypted,
                fault: fault.map(|f| f.name()),
                duplicate: copy == 1,
            });
        }
        if accepted {
            return;
        }
        if attempt < NOTIFY_MAX_ATTEMPTS {
            tokio::time::sleep(shared.scaled(NOTIFY_INTERVAL_SECS)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_handling() {
        assert_eq!(
            url_options("http://x/n?_type=json&encrypt=3DES"),
            (Format::Json, true)
        );
        assert_eq!(url_options("http://x/n"), (Format::Xml, false));
        assert_eq!(with_sign("http://x/n", "a:1"), "http://x/n?sign=a:1");
        assert_eq!(
            with_sign("http://x/n?_type=json#f", "a:1"),
            "http://x/n?_type=json&sign=a:1#f"
        );
    }
}
