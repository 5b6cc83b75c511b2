//! HTTPS for the window and the API: the certificate chain and key from PEM files
//! (`http.tls_certificate`, `http.tls_private_key`), and a listener for `axum::serve` whose
//! TLS handshakes run in their own tasks (with a time limit), so that a client that stalls
//! its handshake holds up nobody else.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take for its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the HTTP server at most.
const READY_QUEUE: usize = 128;

/// The server side of TLS for HTTPS from the certificate chain and private key (PEM files).
pub fn server_config(
    certificate: &Path,
    private_key: &Path,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let mut config = tls_config(
        certificate,
        private_key,
        ["http.tls_certificate", "http.tls_private_key"],
    )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TLS server config from PEM files; `keys` name the config keys in error messages.
pub fn tls_config(
    certificate: &Path,
    private_key: &Path,
    keys: [&str; 2],
) -> anyhow::Result<rustls::ServerConfig> {
    let [cert_key, key_key] = keys;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .with_context(|| format!("{cert_key}: cannot read {}", certificate.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{cert_key}: {} is not PEM", certificate.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "{cert_key}: no certificate in {}",
        certificate.display()
    );
    let key = PrivateKeyDer::from_pem_file(private_key).with_context(|| {
        format!(
            "{key_key}: no private key in {} (PEM, PKCS#8, PKCS#1 or SEC1)",
            private_key.display()
        )
    })?;
    // ring, not aws-lc-rs: no C toolchain (cmake) needed to build. Its provider is marked
    // deprecated only for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| format!("{cert_key} and {key_key} do not belong together"))
}

/// Accepts TCP connections and hands on those whose TLS handshake completed.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "HTTPS accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, ready_tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready_tx.send((tls, peer)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(Self { local, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept task ended (it never does while the listener lives).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
