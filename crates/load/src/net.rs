//! Batched UDP on Linux: sendmmsg/recvmmsg over std sockets, and ppoll to sleep until a
//! socket is readable or a deadline (microsecond precision) passes.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Datagrams per recvmmsg call.
pub const RECV_BATCH: usize = 64;
/// Largest datagram we read.
pub const RECV_SIZE: usize = 2048;

fn to_storage(addr: &SocketAddr, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    // SAFETY: sockaddr_storage is large and aligned enough for both address families.
    unsafe {
        match addr {
            SocketAddr::V4(a) => {
                let sin = &mut *(out as *mut _ as *mut libc::sockaddr_in);
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                size_of::<libc::sockaddr_in>() as libc::socklen_t
            }
            SocketAddr::V6(a) => {
                let sin6 = &mut *(out as *mut _ as *mut libc::sockaddr_in6);
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_flowinfo = a.flowinfo();
                sin6.sin6_scope_id = a.scope_id();
                size_of::<libc::sockaddr_in6>() as libc::socklen_t
            }
        }
    }
}

fn from_storage(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    // SAFETY: the family field says which layout the kernel wrote.
    unsafe {
        match i32::from(s.ss_family) {
            libc::AF_INET => {
                let sin = &*(s as *const _ as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(sin.sin_port),
                )))
            }
            libc::AF_INET6 => {
                let sin6 = &*(s as *const _ as *const libc::sockaddr_in6);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

/// Datagrams queued for one sendmmsg: preallocated, reused every tick.
#[derive(Default)]
pub struct SendBatch {
    bufs: Vec<[u8; 256]>,
    lens: Vec<usize>,
    dests: Vec<libc::sockaddr_storage>,
    dest_lens: Vec<libc::socklen_t>,
    used: usize,
}

impl SendBatch {
    /// The next slot's buffer; the caller writes `len` bytes and commits with [`Self::commit`].
    pub fn next_buf(&mut self) -> &mut [u8; 256] {
        if self.used == self.bufs.len() {
            self.bufs.push([0; 256]);
            self.lens.push(0);
            // SAFETY: all-zero is a valid sockaddr_storage.
            self.dests.push(unsafe { zeroed() });
            self.dest_lens.push(0);
        }
        &mut self.bufs[self.used]
    }

    pub fn commit(&mut self, len: usize, dest: SocketAddr) {
        self.lens[self.used] = len;
        self.dest_lens[self.used] = to_storage(&dest, &mut self.dests[self.used]);
        self.used += 1;
    }

    pub fn len(&self) -> usize {
        self.used
    }

    /// Takes back the last committed datagram (it is not sent).
    pub fn drop_last(&mut self) {
        self.used = self.used.saturating_sub(1);
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Sends everything queued (sendmmsg, repeated until all went or an error); returns how
    /// many were sent and clears the batch.
    pub fn flush(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let n = self.used;
        self.used = 0;
        let mut iovs: Vec<libc::iovec> = (0..n)
            .map(|i| libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            })
            .collect();
        // SAFETY: zeroed mmsghdr is valid; pointers below outlive the call.
        let mut msgs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { zeroed() }).collect();
        for (i, m) in msgs.iter_mut().enumerate() {
            m.msg_hdr.msg_name = (&mut self.dests[i] as *mut libc::sockaddr_storage).cast();
            m.msg_hdr.msg_namelen = self.dest_lens[i];
            m.msg_hdr.msg_iov = &mut iovs[i];
            m.msg_hdr.msg_iovlen = 1;
        }
        let mut sent = 0;
        while sent < n {
            // SAFETY: msgs[sent..] are initialised headers pointing at live buffers.
            let r = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    msgs[sent..].as_mut_ptr(),
                    (n - sent) as libc::c_uint,
                    0,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // Skip the datagram that failed (e.g. ECONNREFUSED from an earlier ICMP).
                sent += 1;
                if sent >= n {
                    return Err(e);
                }
                continue;
            }
            sent += r as usize;
        }
        Ok(sent)
    }
}

/// Buffers for recvmmsg.
pub struct RecvBatch {
    bufs: Vec<[u8; RECV_SIZE]>,
    lens: [usize; RECV_BATCH],
    srcs: Vec<libc::sockaddr_storage>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            bufs: vec![[0; RECV_SIZE]; RECV_BATCH],
            lens: [0; RECV_BATCH],
            // SAFETY: all-zero is a valid sockaddr_storage.
            srcs: (0..RECV_BATCH).map(|_| unsafe { zeroed() }).collect(),
        }
    }
}

impl RecvBatch {
    /// Reads up to [`RECV_BATCH`] waiting datagrams without blocking; returns how many.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        let mut iovs: Vec<libc::iovec> = self
            .bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: RECV_SIZE,
            })
            .collect();
        // SAFETY: zeroed mmsghdr is valid; pointers below outlive the call.
        let mut msgs: Vec<libc::mmsghdr> = (0..RECV_BATCH).map(|_| unsafe { zeroed() }).collect();
        for (i, m) in msgs.iter_mut().enumerate() {
            m.msg_hdr.msg_name = (&mut self.srcs[i] as *mut libc::sockaddr_storage).cast();
            m.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            m.msg_hdr.msg_iov = &mut iovs[i];
            m.msg_hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: as above; MSG_DONTWAIT never blocks.
            let r = unsafe {
                libc::recvmmsg(
                    socket.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    RECV_BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(0),
                    // An ICMP error from an earlier send: nothing to read, try again.
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused => continue,
                    _ => return Err(e),
                }
            }
            let n = r as usize;
            for (len, m) in self.lens.iter_mut().zip(&msgs).take(n) {
                *len = m.msg_len as usize;
            }
            return Ok(n);
        }
    }

    /// Datagram `i` of the last [`Self::recv`]: source and bytes.
    pub fn get(&self, i: usize) -> (Option<SocketAddr>, &[u8]) {
        (from_storage(&self.srcs[i]), &self.bufs[i][..self.lens[i]])
    }
}

/// Waits until one of `sockets` is readable or `timeout` passes; returns which are readable.
pub fn wait_readable(sockets: &[&UdpSocket], timeout: Duration, ready: &mut Vec<bool>) {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: fds is a live array of pollfd; a null sigmask keeps the current one.
    let r = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &ts,
            std::ptr::null(),
        )
    };
    ready.clear();
    ready.extend(fds.iter().map(|f| r > 0 && f.revents != 0));
}

/// Binds a UDP socket on an even port of `ip` whose odd neighbour is bound too (where the
/// server sends RTCP); returns (RTP socket, RTCP sink).
pub fn bind_rtp_pair(ip: std::net::IpAddr) -> io::Result<(UdpSocket, UdpSocket)> {
    for _ in 0..200 {
        let rtp = UdpSocket::bind((ip, 0))?;
        let port = rtp.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        if let Ok(rtcp) = UdpSocket::bind((ip, port + 1)) {
            rtp.set_nonblocking(true)?;
            rtcp.set_nonblocking(true)?;
            set_buffers(&rtp, 4 << 20);
            return Ok((rtp, rtcp));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free RTP port pair",
    ))
}

/// Asks for larger socket buffers (best effort; the kernel caps them at rmem_max/wmem_max).
pub fn set_buffers(socket: &UdpSocket, bytes: i32) {
    for opt in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: setsockopt with a plain int option on a live fd.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&bytes as *const i32).cast(),
                size_of::<i32>() as libc::socklen_t,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_go_round_trip_on_loopback() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = b.local_addr().unwrap();
        let mut batch = SendBatch::default();
        for i in 0..10u8 {
            batch.next_buf()[..3].copy_from_slice(&[i, i, i]);
            batch.commit(3, dest);
        }
        assert_eq!(batch.flush(&a).unwrap(), 10);
        assert!(batch.is_empty());
        let mut ready = Vec::new();
        wait_readable(&[&b], Duration::from_secs(2), &mut ready);
        assert_eq!(ready, [true]);
        let mut rx = RecvBatch::default();
        let mut got = 0;
        while got < 10 {
            let n = rx.recv(&b).unwrap();
            for i in 0..n {
                let (src, bytes) = rx.get(i);
                assert_eq!(src, Some(a.local_addr().unwrap()));
                assert_eq!(bytes, &[got as u8; 3]);
                got += 1;
            }
        }
    }
}
