//! Reading every datagram waiting on a UDP socket with one `recvmmsg(2)` call (Linux), into
//! buffers owned by the caller and reused every 20 ms tick: no allocation, no blocking.
//! Where a plain loop of `recv_from` needs one extra call per socket and tick just to learn
//! that the queue is empty, this needs one call in all.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

/// Datagrams read per call (a phone sends one per 20 ms; a burst after a network hiccup
/// is read by the next call in the same tick).
pub const BATCH: usize = 4;
/// Largest datagram kept (longer ones are truncated and then rejected as RTP).
pub const DATAGRAM: usize = 1500;

/// Receive buffers for [`BATCH`] datagrams.
pub struct RecvBatch {
    bufs: [[u8; DATAGRAM]; BATCH],
    lens: [usize; BATCH],
    srcs: [libc::sockaddr_storage; BATCH],
}

impl RecvBatch {
    pub fn new() -> Box<RecvBatch> {
        Box::new(RecvBatch {
            bufs: [[0; DATAGRAM]; BATCH],
            lens: [0; BATCH],
            // SAFETY: all-zero is a valid sockaddr_storage.
            srcs: unsafe { zeroed() },
        })
    }

    /// Reads up to [`BATCH`] waiting datagrams without blocking; how many (0: none waiting).
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        // SAFETY: zeroed iovec/mmsghdr are valid; every pointer set below points into `self`
        // or these stack arrays, all of which outlive the call.
        let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        for i in 0..BATCH {
            iovs[i].iov_base = self.bufs[i].as_mut_ptr().cast();
            iovs[i].iov_len = DATAGRAM;
            let hdr = &mut msgs[i].msg_hdr;
            hdr.msg_name = (&mut self.srcs[i] as *mut libc::sockaddr_storage).cast();
            hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            hdr.msg_iov = &mut iovs[i];
            hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: as above; MSG_DONTWAIT never blocks.
            let r = unsafe {
                libc::recvmmsg(
                    socket.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r >= 0 {
                let n = r as usize;
                for (len, msg) in self.lens.iter_mut().zip(&msgs).take(n) {
                    *len = (msg.msg_len as usize).min(DATAGRAM);
                }
                return Ok(n);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => return Ok(0),
                // An ICMP error for an earlier send is reported here once: read on.
                io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused => continue,
                _ => return Err(e),
            }
        }
    }

    /// Datagram `i` of the last [`RecvBatch::recv`]: its bytes and source.
    pub fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        (&self.bufs[i][..self.lens[i]], from_storage(&self.srcs[i]))
    }
}

/// Asks for a receive buffer of `bytes` on `socket`; returns what the kernel granted (it
/// caps the request at `net.core.rmem_max` and reports double the usable size).
pub fn set_receive_buffer(socket: &impl AsRawFd, bytes: usize) -> usize {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt/getsockopt with an int-sized option on a live socket descriptor.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
        let mut granted: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut granted as *mut libc::c_int).cast(),
            &mut len,
        );
        usize::try_from(granted).unwrap_or(0)
    }
}

/// `SO_MEMINFO` (Linux `asm-generic/socket.h`); not exported by libc for every target.
const SO_MEMINFO: libc::c_int = 55;

/// Bytes waiting in the socket's receive queue (kernel accounting, per-datagram overhead
/// included) and the queue's size; None where the kernel cannot tell.
pub fn receive_queue(socket: &impl AsRawFd) -> Option<(usize, usize)> {
    let mut info = [0u32; 9];
    let mut len = size_of_val(&info) as libc::socklen_t;
    // SAFETY: getsockopt into a buffer of the length passed, on a live socket descriptor.
    let r = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (r == 0).then(|| {
        (
            info[libc::SK_MEMINFO_RMEM_ALLOC as usize] as usize,
            info[libc::SK_MEMINFO_RCVBUF as usize] as usize,
        )
    })
}

fn from_storage(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the kernel wrote a sockaddr_in.
            let sin = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the kernel wrote a sockaddr_in6.
            let sin6 =
                unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_waiting_datagram_with_its_source_then_nothing() {
        for ip in ["127.0.0.1", "::1"] {
            let Ok(rx) = UdpSocket::bind((ip, 0)) else {
                continue; // no IPv6 on this machine
            };
            let tx = UdpSocket::bind((ip, 0)).unwrap();
            let mut batch = RecvBatch::new();
            assert_eq!(batch.recv(&rx).unwrap(), 0, "nothing waiting");
            for k in 0..6u8 {
                tx.send_to(&[k; 3], rx.local_addr().unwrap()).unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
            let n = batch.recv(&rx).unwrap();
            assert_eq!(n, BATCH);
            for i in 0..n {
                let (bytes, from) = batch.get(i);
                assert_eq!(bytes, &[i as u8; 3]);
                assert_eq!(from, Some(tx.local_addr().unwrap()));
            }
            assert_eq!(batch.recv(&rx).unwrap(), 2, "the rest");
            assert_eq!(batch.get(1).0, &[5u8; 3]);
            assert_eq!(batch.recv(&rx).unwrap(), 0);
        }
    }

    #[test]
    fn a_bigger_receive_buffer_is_granted() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let before = set_receive_buffer(&socket, 0);
        let granted = set_receive_buffer(&socket, 1 << 20);
        assert!(granted > before);
        let (queued, size) = receive_queue(&socket).expect("SO_MEMINFO");
        assert_eq!((queued, size), (0, granted));
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..10 {
            sender
                .send_to(&[0u8; 500], socket.local_addr().unwrap())
                .unwrap();
        }
        let (queued, _) = receive_queue(&socket).unwrap();
        assert!(queued >= 10 * 500, "ten datagrams are queued: {queued}");
    }
}
