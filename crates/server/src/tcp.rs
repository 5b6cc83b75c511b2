//! SIP over TCP and TLS (RFC 3261 §18, §26.2): accepts connections within the `[limits]`
//! (in all and per source address, both listeners together; idle and unfinished-message
//! timeouts; the TLS handshake within the unfinished-message time), frames messages with
//! sipx-sip's stream parser (see [`konferenz_sip::Framer`]) and hands them to the SIP task;
//! writes what the SIP task sends back.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use konferenz_sip::{Framer, Limits, Message, StreamParser, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use crate::config::LimitsConfig;

/// Messages queued towards one connection at most; more are dropped (the peer is not
/// reading, and SIP retransmits over UDP only, so the connection is as good as dead).
const WRITE_QUEUE: usize = 256;

/// Events from all connections queued for the SIP task at most; readers wait beyond it.
pub const EVENT_QUEUE: usize = 1024;

/// How long the accept loop pauses after accept failed (out of file descriptors): the
/// pending connection stays in the backlog and would fail again at once.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long answers to what came before a framing error may take to go out before the
/// connection closes.
const FLUSH_BEFORE_CLOSE: Duration = Duration::from_millis(500);

/// A connection: its transport (TCP or TLS) and peer.
pub type Flow = (Transport, SocketAddr);

/// What connections tell the SIP task.
#[derive(Debug)]
pub enum TcpEvent {
    Opened {
        flow: Flow,
        writer: mpsc::Sender<bytes::Bytes>,
    },
    Message {
        flow: Flow,
        message: Box<Message>,
    },
    /// A message that could not be framed (the connection closes after the answer): its
    /// beginning and the status to answer (400, 413 or 513).
    Unframeable {
        flow: Flow,
        head: Vec<u8>,
        status: u16,
    },
    Closed {
        flow: Flow,
    },
}

/// Open connections, in all and per source address (shared by the TCP and TLS listeners).
#[derive(Debug, Default)]
pub struct Open {
    total: usize,
    per_source: HashMap<IpAddr, usize>,
}

/// A connection's place in [`Open`], given back when it ends.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("open connections");
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_source.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_source.remove(&self.ip);
            }
        }
    }
}

/// A slot for a connection from `ip`, or `None` when a limit is reached.
fn admit(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &LimitsConfig) -> Option<Slot> {
    let mut o = open.lock().expect("open connections");
    let from_ip = o.per_source.get(&ip).copied().unwrap_or(0);
    if o.total >= limits.tcp_connections || from_ip >= limits.tcp_connections_per_source {
        return None;
    }
    o.total += 1;
    *o.per_source.entry(ip).or_default() += 1;
    Some(Slot {
        open: open.clone(),
        ip,
    })
}

/// Accepts connections until the listener fails: plain TCP, or TLS with `tls`.
pub async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    events: mpsc::Sender<TcpEvent>,
    limits: Arc<LimitsConfig>,
    open: Arc<Mutex<Open>>,
) {
    let mut last_warning: Option<Instant> = None;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => match admit(&open, peer.ip(), &limits) {
                Some(slot) => {
                    let _ = stream.set_nodelay(true);
                    let events = events.clone();
                    let limits = limits.clone();
                    match tls.clone() {
                        None => {
                            let flow = (Transport::Tcp, peer);
                            tokio::spawn(connection(stream, flow, events, limits, slot));
                        }
                        Some(acceptor) => {
                            tokio::spawn(async move {
                                // A handshake is an unfinished message: same time limit.
                                let handshake = acceptor.accept(stream);
                                match tokio::time::timeout(limits.tcp_message(), handshake).await {
                                    Ok(Ok(stream)) => {
                                        let flow = (Transport::Tls, peer);
                                        connection(stream, flow, events, limits, slot).await;
                                    }
                                    Ok(Err(error)) => {
                                        debug!(%peer, %error, "SIP TLS handshake failed")
                                    }
                                    Err(_) => debug!(%peer, "SIP TLS handshake timed out"),
                                }
                            });
                        }
                    }
                }
                None => {
                    debug!(%peer, "SIP TCP connection refused: limits.tcp_connections reached");
                    drop(stream);
                }
            },
            Err(e) => {
                // EMFILE/ENFILE: without a pause the loop would spin on the same backlog.
                if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    warn!(error = %e, "SIP TCP accept failed (out of file descriptors?); pausing accepts");
                    last_warning = Some(Instant::now());
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

async fn connection<S>(
    stream: S,
    flow: Flow,
    events: mpsc::Sender<TcpEvent>,
    limits: Arc<LimitsConfig>,
    _slot: Slot,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let peer = flow.1;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<bytes::Bytes>(WRITE_QUEUE);
    if events
        .send(TcpEvent::Opened { flow, writer: tx })
        .await
        .is_err()
    {
        return;
    }
    let (written_tx, mut written_rx) = tokio::sync::watch::channel(Instant::now());
    let write = async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                break;
            }
            let _ = written_tx.send(Instant::now());
        }
    };
    let read = async {
        let mut parser = StreamParser::new(Limits::stream());
        let mut framer = Framer::default();
        let mut buf = vec![0u8; 16 * 1024];
        let mut active = Instant::now();
        // When the message now being received began (None: between messages).
        let mut begun: Option<Instant> = None;
        loop {
            let written = *written_rx.borrow_and_update();
            let idle_until = active.max(written) + limits.tcp_idle();
            let deadline = match begun {
                Some(at) => idle_until.min(at + limits.tcp_message()),
                None => idle_until,
            };
            let n = tokio::select! {
                read = reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => n,
                },
                _ = tokio::time::sleep_until(deadline) => {
                    if Instant::now() >= deadline {
                        debug!(%peer, unfinished = begun.is_some(), "SIP TCP connection timed out; closing");
                        return false;
                    }
                    continue;
                }
                _ = written_rx.changed() => continue,
            };
            active = Instant::now();
            let framed = framer.push(&mut parser, &buf[..n]);
            let completed = !framed.messages.is_empty();
            for message in framed.messages {
                // Waits while the SIP task is behind: a busy server reads slower.
                if events
                    .send(TcpEvent::Message {
                        flow,
                        message: Box::new(message),
                    })
                    .await
                    .is_err()
                {
                    return false;
                }
            }
            if let Some(error) = framed.failed {
                // A stream that cannot be framed cannot be resynchronised (§18.3): answer
                // what can be answered, then close it.
                debug!(%peer, %error, "unframeable SIP over TCP; closing");
                if let Some(refused) = framed.refused {
                    let _ = events
                        .send(TcpEvent::Unframeable {
                            flow,
                            head: refused.head,
                            status: refused.status,
                        })
                        .await;
                }
                return true;
            }
            // The clock runs from the first byte of the message still incomplete.
            begun = match parser.pending() {
                0 => None,
                _ if completed => Some(active),
                _ => begun.or(Some(active)),
            };
        }
    };
    tokio::pin!(write);
    tokio::select! {
        _ = &mut write => {}
        unframeable = read => if unframeable {
            // What was framed before the error is being answered: let it go out first.
            let _ = tokio::time::timeout(FLUSH_BEFORE_CLOSE, &mut write).await;
        }
    }
    let _ = events.send(TcpEvent::Closed { flow }).await;
}
