//! The certificate authorities a client trusts for HTTPS.
//!
//! By default every transport (the clients' own, `http1`, and ureq's for a gateway behind a
//! proxy) trusts the Mozilla roots compiled into the SDK (`webpki-roots`): the same on every machine, whatever
//! its system store. A gateway reached through a TLS-inspecting proxy (a shop's or a mall's
//! firewall) or a test gateway behind a private CA is signed by an authority not among them:
//! [`CaCertificates`] replaces the roots with the PEM certificates given (as `curl --cacert`,
//! Python's `cafile` or `requests`' `verify=PATH` do). Verification itself is never turned off.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// The largest CA file read (bytes): a full system bundle is about 220 KB.
const MAX_CA_BYTES: u64 = 4 * 1024 * 1024;

/// Certificate authorities trusted instead of the built-in roots: X.509 certificates (DER),
/// each checked to be usable as a trust anchor when read. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificates {
    der: Arc<[Vec<u8>]>,
}

impl fmt::Debug for CaCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaCertificates({} certificates)", self.der.len())
    }
}

impl CaCertificates {
    /// The certificates of a PEM text (`-----BEGIN CERTIFICATE-----` blocks; other blocks,
    /// such as a private key, are refused: a key has no place in a trust file). `field` names
    /// the setting in errors.
    pub fn from_pem(pem: &[u8], field: &str) -> Result<CaCertificates> {
        // A file saved by Windows tools may start with a UTF-8 byte order mark.
        let pem = pem.strip_prefix("\u{feff}".as_bytes()).unwrap_or(pem);
        let mut der = Vec::new();
        for (i, item) in ureq::tls::parse_pem(pem).enumerate() {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => der.push(c.der().to_vec()),
                Ok(_) => {
                    return Err(Error::validation(
                        field,
                        format!("PEM block {} is not a certificate (a CA file holds only CERTIFICATE blocks)", i + 1),
                    ))
                }
                Err(e) => {
                    return Err(Error::validation(
                        field,
                        format!("PEM block {} cannot be read: {e}", i + 1),
                    ))
                }
            }
        }
        if der.is_empty() {
            return Err(Error::validation(
                field,
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            ));
        }
        let mut store = rustls::RootCertStore::empty();
        for (i, d) in der.iter().enumerate() {
            store
                .add(rustls::pki_types::CertificateDer::from(d.as_slice()))
                .map_err(|e| {
                    Error::validation(
                        field,
                        format!(
                            "certificate {} is not a usable X.509 certificate: {e}",
                            i + 1
                        ),
                    )
                })?;
        }
        Ok(CaCertificates { der: der.into() })
    }

    /// The certificates of a PEM file. `field` names the setting in errors, which also name
    /// the path.
    pub fn from_file(path: &str, field: &str) -> Result<CaCertificates> {
        use std::io::Read as _;
        let unreadable =
            |e: std::io::Error| Error::validation(field, format!("cannot read {path:?}: {e}"));
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let mut pem = Vec::new();
        file.take(MAX_CA_BYTES + 1)
            .read_to_end(&mut pem)
            .map_err(unreadable)?;
        if pem.len() as u64 > MAX_CA_BYTES {
            return Err(Error::validation(
                field,
                format!("{path:?} is larger than {MAX_CA_BYTES} bytes"),
            ));
        }
        Self::from_pem(&pem, field).map_err(|e| match e {
            Error::Validation { field, reason } => Error::Validation {
                field,
                reason: format!("{path:?}: {reason}"),
            },
            other => other,
        })
    }

    /// How many certificates.
    pub fn len(&self) -> usize {
        self.der.len()
    }

    /// Never: a value holds at least one certificate.
    pub fn is_empty(&self) -> bool {
        self.der.is_empty()
    }

    /// The roots for ureq (the blocking client).
    pub(crate) fn ureq_roots(&self) -> ureq::tls::RootCerts {
        self.der
            .iter()
            .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
            .collect::<Vec<_>>()
            .into()
    }

    /// The roots for rustls.
    pub(crate) fn rustls_roots(&self) -> rustls::RootCertStore {
        let mut store = rustls::RootCertStore::empty();
        store.add_parsable_certificates(
            self.der
                .iter()
                .map(|d| rustls::pki_types::CertificateDer::from(d.clone())),
        );
        store
    }
}

/// The rustls configuration of the clients' own transport (`http1`, both drivers):
/// the webpki roots, or `ca` instead; TLS 1.2 and 1.3 (ring).
pub(crate) fn client_config(ca: Option<&CaCertificates>) -> Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match ca {
        Some(ca) => ca.rustls_roots(),
        None => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::crypto(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(tls))
}

/// rustls's error in `e`: as such, or inside the io::Errors of a handshake (a TLS stream and
/// a connector may each wrap it in one). Both clients read their transport errors with it.
pub(crate) fn rustls_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rustls_error(inner)
}

/// What to do about a certificate the client refused, appended to the error's reason: the
/// two refusals a private CA or a self-made certificate produce ("" for the others).
pub(crate) fn refusal_hint(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            " (no trusted CA signs the gateway's certificate: a TLS-inspecting proxy's or a private CA's \
             certificate is trusted only when given to the client: ca_file or ca_pem; caFile or caPem in JS, Kotlin and Swift)"
        }
        rustls::Error::InvalidCertificate(C::Other(o))
            if format!("{o:?}").contains("CaUsedAsEndEntity") =>
        {
            " (the server presents a CA certificate as its own: give it a server certificate, \
             CA:FALSE with its host in subjectAltName, signed by the CA given to the client)"
        }
        _ => "",
    }
}
