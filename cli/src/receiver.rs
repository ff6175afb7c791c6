//! A tiny notification receiver for the demo: a merchant's webhook endpoint in a few lines of
//! std networking. Verifies every delivery, processes each payment once, and reports events.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use sosopay::models::Notification;
use sosopay::notify::{process_once, Delivery, MemoryIdempotencyStore};
use sosopay::{Error, MerchantKey, NotificationVerifier};

/// What the receiver saw.
#[derive(Debug)]
pub enum Event {
    /// A verified notification and what became of it.
    Verified(Box<Notification>, Delivery),
    /// A delivery that failed verification.
    Rejected(String),
}

/// The running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/notify`.
    pub url: String,
    events: mpsc::Receiver<Event>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

const MAX_BODY: usize = 1 << 20;

fn handle(
    stream: TcpStream,
    verifier: &NotificationVerifier,
    store: &MemoryIdempotencyStore,
    tx: &mpsc::Sender<Event>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; content_length.min(MAX_BODY)];
    reader.read_exact(&mut body)?;
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let (status, text) = match verifier.parse(query, &body) {
        Ok(n) => match process_once::<_, _, Error>(store, &n, |_| Ok(())) {
            Ok(d) => {
                let _ = tx.send(Event::Verified(Box::new(n), d));
                (d.http_status(), "OK")
            }
            Err(_) => (500, "could not process"),
        },
        Err(e) => {
            let _ = tx.send(Event::Rejected(e.to_string()));
            (400, "rejected")
        }
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut out = stream;
    write!(out, "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len())?;
    out.flush()
}

impl Receiver {
    /// Starts on a free loopback port, accepting merchant `busi_code`'s notifications signed
    /// with `key`.
    pub fn start(key: MerchantKey, busi_code: &str) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let verifier = NotificationVerifier::new(key)
            .with_busi_code(busi_code)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let thread = std::thread::spawn(move || {
            let store = MemoryIdempotencyStore::new();
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = conn {
                    let _ = handle(stream, &verifier, &store, &tx);
                }
            }
        });
        Ok(Receiver {
            url: format!("http://{addr}/notify"),
            events,
            stop,
            addr,
            thread: Some(thread),
        })
    }

    /// Waits for the next event.
    pub fn next(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout).ok()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
