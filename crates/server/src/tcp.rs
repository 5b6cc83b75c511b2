//! SIP over TCP (RFC 3261 §18): accepts connections, frames messages with sipx-sip's
//! stream parser and hands them to the SIP task; writes what the SIP task sends back.

use std::net::SocketAddr;

use konferenz_sip::{Limits, Message, StreamParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::debug;

/// Messages queued towards one connection at most; more are dropped (the peer is not
/// reading, and SIP retransmits over UDP only, so the connection is as good as dead).
const WRITE_QUEUE: usize = 256;

/// Events from all connections queued for the SIP task at most; readers wait beyond it.
pub const EVENT_QUEUE: usize = 1024;

/// What connections tell the SIP task.
#[derive(Debug)]
pub enum TcpEvent {
    Opened {
        peer: SocketAddr,
        writer: mpsc::Sender<bytes::Bytes>,
    },
    Message {
        peer: SocketAddr,
        message: Box<Message>,
    },
    Closed {
        peer: SocketAddr,
    },
}

/// Accepts connections until the listener fails.
pub async fn accept_loop(listener: TcpListener, events: mpsc::Sender<TcpEvent>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(connection(stream, peer, events.clone()));
            }
            Err(e) => debug!(error = %e, "TCP accept failed"),
        }
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, events: mpsc::Sender<TcpEvent>) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<bytes::Bytes>(WRITE_QUEUE);
    if events
        .send(TcpEvent::Opened { peer, writer: tx })
        .await
        .is_err()
    {
        return;
    }
    let write = async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    };
    let read = async {
        let mut parser = StreamParser::new(Limits::stream());
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            match parser.push(&buf[..n]) {
                Ok(messages) => {
                    for message in messages {
                        // Waits while the SIP task is behind: a busy server reads slower.
                        if events
                            .send(TcpEvent::Message {
                                peer,
                                message: Box::new(message),
                            })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
                Err(error) => {
                    // A stream that cannot be framed cannot be resynchronised (§18.3): close it.
                    debug!(%peer, %error, "unframeable SIP over TCP; closing");
                    break;
                }
            }
        }
    };
    tokio::select! {
        _ = write => {}
        _ = read => {}
    }
    let _ = events.send(TcpEvent::Closed { peer }).await;
}
