//! Name resolution without a thread per request, for every transport (the clients' own,
//! `http1`, blocking and async, and ureq's behind a proxy).
//!
//! ureq's default resolver, when a timeout is set (always, here), resolves on a freshly
//! spawned thread for every request, even for an IP literal and even when a kept-alive
//! connection is then reused: about 60 µs of CPU per request. This resolver answers IP
//! literals directly and keeps each host name's addresses for [`TTL`]; only a miss is looked up
//! (on a thread, so that the lookup is bounded by the connect timeout).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a host name's addresses are reused.
pub const TTL: Duration = Duration::from_secs(30);

/// Most host names remembered (one client talks to one gateway).
const MAX_HOSTS: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    /// ureq's, for a URI whose port this one cannot tell (a proxy's scheme other than HTTP).
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (Instant, Vec<SocketAddr>)>>,
}

fn default_port(uri: &Uri) -> Option<u16> {
    match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    }
}

impl CachingResolver {
    /// The addresses of `host` (an IP literal without brackets, or a name) at `port` when no
    /// lookup is needed (a literal, a name looked up less than [`TTL`] ago); else the cache key
    /// to look it up under.
    fn known(&self, host: &str, port: u16) -> std::result::Result<Vec<SocketAddr>, String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let key = format!("{}:{port}", host.to_ascii_lowercase());
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, addrs)) = cache.get(&key) {
                if at.elapsed() < TTL {
                    return Ok(addrs.clone());
                }
            }
        }
        Err(key)
    }

    /// Keeps what a lookup of `key` found (nothing found: an error of kind `NotFound`).
    fn remember(&self, key: String, addrs: Vec<SocketAddr>) -> io::Result<Vec<SocketAddr>> {
        if addrs.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no address"));
        }
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_HOSTS {
                cache.clear();
            }
            cache.insert(key, (Instant::now(), addrs.clone()));
        }
        Ok(addrs)
    }

    /// The addresses of `host` at `port`: known ones at once, else looked up on a thread
    /// within `timeout` (an error of kind `TimedOut` after it; the lookup's thread ends on its
    /// own).
    pub(crate) fn lookup(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> io::Result<Vec<SocketAddr>> {
        let key = match self.known(host, port) {
            Ok(addrs) => return Ok(addrs),
            Err(key) => key,
        };
        let (tx, rx) = mpsc::sync_channel(1);
        let name = key.clone();
        std::thread::Builder::new()
            .name("sosopay-resolve".into())
            .spawn(move || {
                let _ = tx.send(name.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
            })?;
        match rx.recv_timeout(timeout) {
            Ok(found) => self.remember(key, found?),
            Err(_) => Err(timed_out()),
        }
    }

    /// [`CachingResolver::lookup`] on the async client's runtime.
    #[cfg(feature = "async")]
    pub(crate) async fn lookup_async(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> io::Result<Vec<SocketAddr>> {
        let key = match self.known(host, port) {
            Ok(addrs) => return Ok(addrs),
            Err(key) => key,
        };
        let found = tokio::time::timeout(timeout, tokio::net::lookup_host(key.clone())).await;
        match found {
            Ok(found) => self.remember(key, found?.collect()),
            Err(_) => Err(timed_out()),
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the host name was not resolved in time",
    )
}

/// For ureq (the blocking client behind a proxy, where ureq resolves the proxy's host).
impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(authority) = uri.authority() else {
            return self.inner.resolve(uri, config, timeout);
        };
        let Some(port) = authority.port_u16().or_else(|| default_port(uri)) else {
            return self.inner.resolve(uri, config, timeout);
        };
        let host = authority.host();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match self.lookup(literal, port, *timeout.after) {
            Ok(addrs) => {
                let mut out = self.empty();
                for a in addrs {
                    if out.try_push(a).is_err() {
                        break;
                    }
                }
                Ok(out)
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                Err(ureq::Error::Timeout(ureq::Timeout::Resolve))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ureq::Error::HostNotFound),
            Err(e) => Err(ureq::Error::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_need_no_lookup() {
        let r = CachingResolver::default();
        let cfg = Config::default();
        for (url, want) in [
            ("http://127.0.0.1:8080/x", "127.0.0.1:8080"),
            ("https://10.1.2.3/x", "10.1.2.3:443"),
            ("http://[::1]:9000/x", "[::1]:9000"),
        ] {
            let uri: Uri = url.parse().expect("uri");
            let addrs = r
                .resolve(&uri, &cfg, NextTimeout::default())
                .expect("resolve");
            assert_eq!(addrs.len(), 1);
            assert_eq!(addrs[0].to_string(), want);
        }
        assert!(r.cache.lock().expect("lock").is_empty());
    }

    #[test]
    fn a_proxy_scheme_without_a_port_goes_to_ureqs_resolver() {
        let r = CachingResolver::default();
        let uri: Uri = "socks5://127.0.0.1".parse().expect("uri");
        let addrs = r
            .resolve(&uri, &Config::default(), NextTimeout::default())
            .expect("resolve");
        assert_eq!(addrs[0].to_string(), "127.0.0.1:1080");
    }

    #[test]
    fn names_are_cached() {
        let r = CachingResolver::default();
        let uri: Uri = "http://localhost:1/x".parse().expect("uri");
        let cfg = Config::default();
        let a = r
            .resolve(&uri, &cfg, NextTimeout::default())
            .expect("resolve");
        assert!(!a.is_empty());
        assert_eq!(r.cache.lock().expect("lock").len(), 1);
        let b = r
            .resolve(&uri, &cfg, NextTimeout::default())
            .expect("resolve");
        assert_eq!(a, b);
    }
}
