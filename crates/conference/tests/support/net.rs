//! An in-memory network for rooms: fake sockets with addresses but no file descriptors,
//! the [`MediaIo`] that reads and sends for a room, and a phone that speaks G.711 frames.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;

use konferenz_conference::MediaIo;
use konferenz_media::{linear_to_ulaw, ulaw_to_linear};

/// Datagrams waiting at one address: (source, bytes).
type Queue = VecDeque<(SocketAddr, Vec<u8>)>;

/// The queues of every address.
#[derive(Clone, Default)]
pub struct Net {
    queues: Rc<RefCell<HashMap<SocketAddr, Queue>>>,
    next_port: Rc<RefCell<u16>>,
}

impl Net {
    pub fn new() -> Self {
        Self {
            queues: Rc::default(),
            next_port: Rc::new(RefCell::new(30_000)),
        }
    }

    /// A fresh address on 127.0.0.1 (even port first, for RTP/RTCP pairs).
    fn address(&self) -> SocketAddr {
        let mut port = self.next_port.borrow_mut();
        *port += 1;
        SocketAddr::from(([127, 0, 0, 1], *port))
    }

    pub fn socket(&self) -> Socket {
        Socket {
            addr: self.address(),
            net: self.clone(),
        }
    }

    /// An RTP/RTCP pair for a participant.
    pub fn ports(&self) -> Ports {
        Ports {
            rtp: self.socket(),
            rtcp: self.socket(),
        }
    }

    fn push(&self, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.queues
            .borrow_mut()
            .entry(to)
            .or_default()
            .push_back((from, bytes.to_vec()));
    }

    fn pop(&self, at: SocketAddr) -> Option<(SocketAddr, Vec<u8>)> {
        self.queues.borrow_mut().get_mut(&at)?.pop_front()
    }
}

/// A fake UDP socket.
#[derive(Clone)]
pub struct Socket {
    pub addr: SocketAddr,
    net: Net,
}

impl Socket {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }

    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> std::io::Result<usize> {
        self.net.push(self.addr, to, bytes);
        Ok(bytes.len())
    }

    /// The next datagram waiting, like a non-blocking socket (`WouldBlock` when none).
    pub fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.net.pop(self.addr) {
            Some((_, bytes)) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                Ok(n)
            }
            None => Err(std::io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// A participant's transport in a room under test.
pub struct Ports {
    pub rtp: Socket,
    pub rtcp: Socket,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ports({})", self.rtp.addr)
    }
}

/// Reads and sends for a room on the fake network.
#[derive(Default)]
pub struct FakeIo;

impl MediaIo<Ports> for FakeIo {
    fn receive(&mut self, io: &Ports, rtcp: bool, mut take: impl FnMut(SocketAddr, &[u8])) {
        let socket = if rtcp { &io.rtcp } else { &io.rtp };
        while let Some((from, bytes)) = socket.net.pop(socket.addr) {
            take(from, &bytes);
        }
    }

    fn send(&mut self, io: &Ports, rtcp: bool, to: SocketAddr, bytes: &[u8]) {
        let socket = if rtcp { &io.rtcp } else { &io.rtp };
        let _ = socket.send_to(bytes, to);
    }
}

/// A phone sending a constant level as G.711 µ-law frames and reading what it hears.
pub struct TestPhone {
    pub socket: Socket,
    pub seq: u16,
    ts: u32,
    ssrc: u32,
    /// The level it sends (change it to fall quiet).
    pub level: i16,
    /// SRTP for an encrypted call: what it sends is protected, what it hears must
    /// authenticate.
    pub srtp: Option<std::cell::RefCell<konferenz_media::srtp::Srtp>>,
}

impl TestPhone {
    pub fn new(net: &Net, ssrc: u32, level: i16) -> Self {
        Self {
            socket: net.socket(),
            seq: 1,
            ts: 0,
            ssrc,
            level,
            srtp: None,
        }
    }

    /// One 20 ms frame of the phone's level to `to`.
    pub fn send_frame(&mut self, to: SocketAddr) {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        p.extend(std::iter::repeat_n(linear_to_ulaw(self.level), 160));
        match &self.srtp {
            Some(srtp) => srtp
                .borrow_mut()
                .protect(&p, |d| {
                    self.socket.send_to(d, to).unwrap();
                })
                .unwrap(),
            None => {
                self.socket.send_to(&p, to).unwrap();
            }
        }
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
    }

    /// The level of the newest RTP packet waiting, if any.
    pub fn heard(&self) -> Option<i16> {
        self.levels().last().copied()
    }

    /// The level (sample 80) of every RTP packet waiting, oldest first.
    pub fn levels(&self) -> Vec<i16> {
        let mut buf = [0u8; 1500];
        let mut levels = Vec::new();
        while let Ok(n) = self.socket.recv(&mut buf) {
            let mut plain = Vec::new();
            match &self.srtp {
                Some(srtp) => {
                    let _ = srtp
                        .borrow_mut()
                        .unprotect(&buf[..n], |p| plain.extend_from_slice(p));
                }
                None => plain.extend_from_slice(&buf[..n]),
            }
            if plain.len() == 172 {
                levels.push(ulaw_to_linear(plain[12 + 80]));
            }
        }
        levels
    }
}
