//! The pool of RTP/RTCP port pairs (even RTP port, RTCP on the next, RFC 3550 §11) and
//! binding them as non-blocking sockets for a room to drain.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};

/// An RTP socket and its RTCP companion, bound and non-blocking.
#[derive(Debug)]
pub struct PortPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    pub port: u16,
}

/// Hands out free even ports from the configured range.
#[derive(Debug)]
pub struct PortPool {
    ip: IpAddr,
    free: VecDeque<u16>,
}

impl PortPool {
    /// All even ports in `start..=end` whose odd companion is in range too.
    pub fn new(ip: IpAddr, start: u16, end: u16) -> Self {
        let first = start + start % 2;
        let free = (first..end).step_by(2).collect();
        Self { ip, free }
    }

    /// Pairs still free.
    #[cfg(test)]
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// Binds the next free pair; ports that another program holds go to the back of the
    /// queue and the next is tried.
    pub fn allocate(&mut self) -> io::Result<PortPair> {
        for _ in 0..self.free.len() {
            let Some(port) = self.free.pop_front() else {
                break;
            };
            match bind_pair(self.ip, port) {
                Ok(pair) => return Ok(pair),
                Err(_) => self.free.push_back(port),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "no free RTP port pair in rtp.ports",
        ))
    }

    /// Returns a pair's port to the pool (its sockets must be dropped by then or soon).
    pub fn release(&mut self, port: u16) {
        if !self.free.contains(&port) {
            self.free.push_back(port);
        }
    }
}

fn bind_pair(ip: IpAddr, port: u16) -> io::Result<PortPair> {
    let rtp = UdpSocket::bind(SocketAddr::new(ip, port))?;
    let rtcp = UdpSocket::bind(SocketAddr::new(ip, port + 1))?;
    rtp.set_nonblocking(true)?;
    rtcp.set_nonblocking(true)?;
    Ok(PortPair { rtp, rtcp, port })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn hands_out_even_ports_and_skips_taken_ones() {
        let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let base = probe.local_addr().unwrap().port() & !1;
        drop(probe);
        // Hold base's RTCP port so base cannot be bound.
        let blocker = UdpSocket::bind((Ipv4Addr::LOCALHOST, base + 1));
        let mut pool = PortPool::new(Ipv4Addr::LOCALHOST.into(), base, base + 5);
        assert_eq!(pool.available(), 3);
        let pair = pool.allocate().unwrap();
        assert_eq!(pair.port % 2, 0);
        if blocker.is_ok() {
            assert_ne!(pair.port, base);
        }
        pool.release(pair.port);
        assert_eq!(pool.available(), 3);
    }
}
