//! Helpers for the sandbox's integration tests: raw HTTP with ureq, signing with the core's
//! envelope, and a tiny notification receiver.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sosopay::codec::{Document, Node};
use sosopay::envelope::{now_millis, sign_cancel, sign_query};
use sosopay::{Envelope, MerchantKey};
use sosopay_sandbox::{Sandbox, SandboxConfig, TEST_BUSI_ID, TEST_KEY};

pub fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(30)))
        .max_idle_connections(64)
        .max_idle_connections_per_host(16)
        .build();
    ureq::Agent::new_with_config(config)
}

pub fn envelope(key: &str) -> Envelope {
    Envelope::new(MerchantKey::new(key).expect("key"))
}

/// A reply: status, raw bytes, and the text (decrypted when the request asked for 3DES).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub raw: Vec<u8>,
    pub text: String,
}

impl Resp {
    pub fn doc(&self) -> Document {
        Document::parse(&self.text).unwrap_or_else(|e| panic!("reply {:?}: {e}", self.text))
    }
    /// The body under the reply's single root (or the whole document for the top-up reply).
    pub fn body(&self) -> Node {
        let d = self.doc();
        match &d.root {
            Node::Map(f) if f.len() == 1 && f[0].1.is_map() && f[0].1.get("RESULT").is_some() => {
                f[0].1.clone()
            }
            other => other.clone(),
        }
    }
    pub fn code(&self) -> String {
        self.body()
            .get("RESULT")
            .and_then(|r| r.text("CODE"))
            .unwrap_or_else(|| panic!("no RESULT.CODE in {:?}", self.text))
            .to_owned()
    }
    pub fn info(&self) -> String {
        self.body()
            .get("RESULT")
            .and_then(|r| r.text("INFO"))
            .unwrap_or("")
            .to_owned()
    }
    pub fn field(&self, name: &str) -> Option<String> {
        self.body().text(name).map(str::to_owned)
    }
    pub fn state(&self) -> Option<String> {
        self.field("STATE")
    }
}

/// How to talk to the gateway: reply format and encryption.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub json: bool,
    pub encrypt: bool,
    /// Send the POST body as XML (`<ORDER_REQ>`) instead of JSON.
    pub xml_body: bool,
}

pub const MODES: [Mode; 4] = [
    Mode {
        json: true,
        encrypt: false,
        xml_body: false,
    },
    Mode {
        json: false,
        encrypt: false,
        xml_body: true,
    },
    Mode {
        json: true,
        encrypt: true,
        xml_body: true,
    },
    Mode {
        json: false,
        encrypt: true,
        xml_body: false,
    },
];

pub struct Gw {
    pub sb: Sandbox,
    pub agent: ureq::Agent,
    pub env: Envelope,
    pub busi: String,
}

impl Gw {
    /// Replaces the fault rules (`op:kind:prob[:param]`).
    pub fn set_faults(&self, rules: &[&str]) {
        self.sb
            .set_faults(rules.iter().map(|r| r.parse().expect("rule")).collect());
    }

    pub fn start(time_scale: f64) -> Gw {
        Gw::with_config(SandboxConfig {
            time_scale,
            ..SandboxConfig::default()
        })
    }

    pub fn with_config(config: SandboxConfig) -> Gw {
        let sb = Sandbox::start(config).expect("sandbox starts");
        Gw {
            sb,
            agent: agent(),
            env: envelope(TEST_KEY),
            busi: TEST_BUSI_ID.to_owned(),
        }
    }

    pub fn send(&self, method: &str, url: &str, body: &[u8], decrypt: bool) -> Resp {
        let r = if method == "GET" {
            self.agent.get(url).call()
        } else {
            self.agent
                .post(url)
                .header("Content-Type", "application/json;charset=UTF-8")
                .send(body)
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = r.status().as_u16();
        let raw = r
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_vec()
            .expect("reply body");
        let text = if decrypt && status == 200 {
            let t = String::from_utf8(raw.clone()).expect("base64 text");
            self.env
                .decrypt_to_string(&t)
                .unwrap_or_else(|e| panic!("reply {t:?} does not decrypt: {e}"))
        } else {
            String::from_utf8_lossy(&raw).into_owned()
        };
        Resp { status, raw, text }
    }

    /// POSTs `body` (plaintext JSON or XML) to `op`, signed with this merchant's key.
    pub fn post_as(&self, env: &Envelope, op: &str, body: &str, mode: Mode) -> Resp {
        let ts = now_millis().to_string();
        let sign = env.sign_body(&ts, body).expect("sign");
        let mut url = format!("{}{op}?sign={sign}", self.sb.base_url());
        if mode.json {
            url.push_str("&_type=json");
        }
        let sent = if mode.encrypt {
            url.push_str(&format!("&encrypt=3DES&busiCode={}", self.busi));
            env.encrypt(body.as_bytes())
        } else {
            body.to_owned()
        };
        self.send("POST", &url, sent.as_bytes(), mode.encrypt)
    }

    pub fn post(&self, op: &str, fields: &[(&str, &str)], mode: Mode) -> Resp {
        let body = if mode.xml_body {
            xml_body("ORDER_REQ", fields)
        } else {
            json_body(fields)
        };
        self.post_as(&self.env, op, &body, mode)
    }

    pub fn query(&self, code: &str, ser_type: &str, mode: Mode) -> Resp {
        let ts = now_millis().to_string();
        let sign = sign_query(self.env.key(), &ts, code)
            .expect("sign")
            .replace(':', "%3A");
        let mut url = format!(
            "{}query/{code}/{}?sign={sign}&BUSI_ID={}&serType={ser_type}",
            self.sb.base_url(),
            self.busi,
            self.busi
        );
        if mode.json {
            url.push_str("&_type=json");
        }
        if mode.encrypt {
            url.push_str(&format!("&encrypt=3DES&busiCode={}", self.busi));
        }
        self.send("GET", &url, b"", mode.encrypt)
    }

    pub fn cancel(&self, code: &str, aco: bool, mode: Mode) -> Resp {
        let ts = now_millis().to_string();
        let sign = sign_cancel(self.env.key(), &ts, code, &self.busi)
            .expect("sign")
            .replace(':', "%3A");
        let mut url = format!(
            "{}cancelTrade/{code}/{}?sign={sign}&BUSI_ID={}",
            self.sb.base_url(),
            self.busi,
            self.busi
        );
        if mode.json {
            url.push_str("&_type=json");
        }
        if mode.encrypt {
            url.push_str(&format!("&encrypt=3DES&busiCode={}", self.busi));
        }
        if aco {
            url.push_str("&opType=ACO");
        }
        self.send("GET", &url, b"", mode.encrypt)
    }

    pub fn flow(&self, body: &str, mode: Mode) -> Resp {
        let ts = now_millis().to_string();
        let sign = self.env.sign_body(&ts, body).expect("sign");
        let mut url = format!(
            "{}openGateway/platService/flowRecharge/{}?sign={sign}",
            self.sb.root_url(),
            self.busi
        );
        if mode.json {
            url.push_str("&_type=json");
        }
        let sent = if mode.encrypt {
            url.push_str("&encrypt=3DES");
            self.env.encrypt(body.as_bytes())
        } else {
            body.to_owned()
        };
        self.send("POST", &url, sent.as_bytes(), mode.encrypt)
    }

    pub fn micropay(&self, cc: &str, amt: &str, code: &str, mode: Mode) -> Resp {
        self.post("preOrder", &micropay_fields(cc, amt, code, "0"), mode)
    }

    pub fn qr(&self, cc: &str, amt: &str, channel: &str, mode: Mode) -> Resp {
        self.post("order", &order_fields(cc, amt, channel), mode)
    }

    pub fn refund(&self, cc: &str, amt: &str, out_refund_no: &str, mode: Mode) -> Resp {
        self.post(
            "refund",
            &[
                ("BUSI_ID", TEST_BUSI_ID),
                ("OPER_ID", "oper01"),
                ("DEV_ID", "dev01"),
                ("CHARGE_REFUND_FEE", amt),
                ("REFUND_SUBJECT", "退款"),
                ("CHARGE_CODE", cc),
                ("OUT_REFUND_NO", out_refund_no),
            ],
            mode,
        )
    }

    pub fn ledger_order(&self, cc: &str) -> serde_json::Value {
        self.sb
            .order(cc)
            .unwrap_or_else(|| panic!("order {cc} is not in the ledger"))
            .to_json()
    }
}

pub fn micropay_fields<'a>(
    cc: &'a str,
    amt: &'a str,
    code: &'a str,
    channel: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AMT", amt),
        ("PAY_SUBJECT", "SOUSHOU product 2"),
        ("CHANNEL_TYPE", channel),
        ("BUSI_ID", TEST_BUSI_ID),
        ("DEV_ID", "Cash register 1"),
        ("REGISTER_ID", "02016"),
        ("DYNAMIC_ID", code),
        ("DYNAMIC_ID_TYPE", "1"),
        ("CHARGE_CODE", cc),
        ("OPER_ID", "test1"),
        ("NODIFY_URL", "null"),
    ]
}

pub fn order_fields<'a>(cc: &'a str, amt: &'a str, channel: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AMT", amt),
        ("PAY_SUBJECT", "嗖嗖产品 1"),
        ("CHANNEL_TYPE", channel),
        ("BUSI_ID", TEST_BUSI_ID),
        ("DEV_ID", " dev1"),
        ("OPER_ID", " oper1"),
        ("CHARGE_CODE", cc),
        ("MERCHANTPARA", "MTExMQ=="),
    ]
}

pub fn json_body(fields: &[(&str, &str)]) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in fields {
        m.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
    }
    serde_json::Value::Object(m).to_string()
}

pub fn xml_body(root: &str, fields: &[(&str, &str)]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut s = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>\n");
    for (k, v) in fields {
        s.push_str(&format!("  <{k}>{}</{k}>\n", esc(v)));
    }
    s.push_str(&format!("</{root}>"));
    s
}

pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Polls `f` until it returns `Some`, for up to `within`.
pub fn eventually<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "condition not met within {within:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One request received by the [`Receiver`].
#[derive(Debug, Clone)]
pub struct Hit {
    pub path_and_query: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Hit {
    /// The `sign` query parameter.
    pub fn sign(&self) -> String {
        let q = self
            .path_and_query
            .split_once('?')
            .map(|x| x.1)
            .unwrap_or("");
        q.split('&')
            .find_map(|p| p.strip_prefix("sign="))
            .unwrap_or("")
            .replace("%3A", ":")
    }
}

/// A minimal HTTP server standing in for a merchant's notification endpoint. `respond` gets
/// the 0-based index of the request and the request, and returns the HTTP status.
pub struct Receiver {
    pub url: String,
    pub hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    pub fn start(respond: impl Fn(usize, &Hit) -> u16 + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let url = format!(
            "http://{}/notify",
            listener.local_addr().expect("receiver address")
        );
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let h = hits.clone();
        let respond = Arc::new(respond);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let h = h.clone();
                let respond = respond.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = BufReader::new(stream);
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let target = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let mut len = 0usize;
                    let mut ct = String::new();
                    loop {
                        let mut l = String::new();
                        if reader.read_line(&mut l).is_err() || l.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                            if k.eq_ignore_ascii_case("content-type") {
                                ct = v.trim().to_owned();
                            }
                        }
                    }
                    let mut body = vec![0u8; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let hit = Hit {
                        path_and_query: target,
                        content_type: ct,
                        body,
                        at: Instant::now(),
                    };
                    let status = {
                        let mut g = h.lock().expect("hits");
                        let i = g.len();
                        g.push(hit.clone());
                        respond(i, &hit)
                    };
                    let mut stream = reader.into_inner();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    );
                    let _ = stream.flush();
                });
            }
        });
        Receiver { url, hits }
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits").clone()
    }
}
