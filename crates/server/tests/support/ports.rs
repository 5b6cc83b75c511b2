//! Loopback ports chosen at run time.
//!
//! Candidates come from 20000..32000, below Linux's ephemeral range (32768..60999), so the
//! kernel does not hand them to some other socket between our check and the peer's bind.
//! Each candidate is checked by binding it (UDP and TCP) on 127.0.0.1 and dropping the
//! socket; ports handed out in this process are never handed out twice.

use std::collections::HashSet;
use std::net::{TcpListener, UdpSocket};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const LOW: u32 = 20_000;
const HIGH: u32 = 32_000;

static TAKEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn bindable(port: u16) -> bool {
    UdpSocket::bind(("127.0.0.1", port)).is_ok() && TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A small xorshift seeded from time and pid: different processes pick different ranges.
fn next_random(state: &mut u64) -> u32 {
    if *state == 0 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(1);
        *state = ((nanos as u64) ^ (u64::from(std::process::id()) << 32)) | 1;
    }
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 16) as u32
}

/// `len` consecutive free ports whose first port is a multiple of `align`.
pub fn free_port_range(len: u16, align: u16) -> u16 {
    let mut rng = 0u64;
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let taken = taken.get_or_insert_with(HashSet::new);
    for _ in 0..2000 {
        let span = HIGH - LOW - u32::from(len);
        let start = (LOW + next_random(&mut rng) % span) as u16;
        let start = start - start % align.max(1);
        let ports = start..start + len;
        if ports.clone().all(|p| !taken.contains(&p) && bindable(p)) {
            taken.extend(ports);
            return start;
        }
    }
    panic!("no free range of {len} loopback ports found");
}

/// One free UDP (and TCP) port on 127.0.0.1.
pub fn free_udp_port() -> u16 {
    free_port_range(1, 1)
}

/// One free TCP port on 127.0.0.1.
pub fn free_tcp_port() -> u16 {
    free_port_range(1, 1)
}

/// A free pair `(p, p + 1)`, `p` even: for SIP user agents that also take port + 1.
pub fn free_port_pair() -> (u16, u16) {
    let p = free_port_range(2, 2);
    (p, p + 1)
}

#[test]
fn ports_are_distinct_and_aligned() {
    let a = free_port_pair();
    let b = free_port_pair();
    assert_eq!(a.0 % 2, 0);
    assert_ne!(a.0, b.0);
    let r = free_port_range(100, 2);
    assert_eq!(r % 2, 0);
}
