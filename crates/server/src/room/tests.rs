//! The room on real loopback sockets through [`SocketIo`], with virtual time: that audio
//! flows (who hears whom) and that the whole tick — socket reads and sends, mixing,
//! metrics — allocates nothing. The room's rules themselves are tested without sockets in
//! `crates/conference/tests/room_*.rs`.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use konferenz_conference::{CallId, Entry, MenuConfig, PromptSet, RoomNumber};
use konferenz_media::{Codec, LegConfig};
use konferenz_media::{linear_to_ulaw, ulaw_to_linear};

use super::*;
use crate::rtp_ports::PortPool;
use std::sync::Arc;

struct TestPhone {
    socket: UdpSocket,
    seq: u16,
    ts: u32,
    ssrc: u32,
    level: i16,
}

impl TestPhone {
    fn new(ssrc: u32, level: i16) -> Self {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket.set_nonblocking(true).unwrap();
        Self {
            socket,
            seq: 1,
            ts: 0,
            ssrc,
            level,
        }
    }

    fn send_frame(&mut self, to: SocketAddr) {
        let mut p = vec![0x80, 0];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        p.extend(std::iter::repeat_n(linear_to_ulaw(self.level), 160));
        self.socket.send_to(&p, to).unwrap();
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
    }

    /// The level of the newest RTP packet waiting, if any.
    fn heard(&self) -> Option<i16> {
        let mut buf = [0u8; 1500];
        let mut last = None;
        while let Ok(n) = self.socket.recv(&mut buf) {
            if n == 172 {
                last = Some(ulaw_to_linear(buf[100]));
            }
        }
        last
    }
}

fn target(phone: &TestPhone, ssrc: u32) -> MediaTarget {
    MediaTarget {
        config: LegConfig {
            codec: Codec::Pcmu,
            payload_type: 0,
            dtmf_payload_type: None,
            ssrc,
        },
        remote: Some(phone.socket.local_addr().unwrap()),
        send: true,
        srtp: None,
    }
}

fn pool() -> PortPool {
    let probe = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let base = probe.local_addr().unwrap().port() & !1;
    drop(probe);
    PortPool::new(
        Ipv4Addr::LOCALHOST.into(),
        base.saturating_sub(200).max(1024),
        base,
    )
}

fn room(timeout_ms: u64, library: PromptSet) -> Room {
    let music = library.music.clone();
    Room::new(
        RoomNumber::parse("800").unwrap(),
        settings(timeout_ms),
        Arc::new(library),
        music,
    )
}

/// Prompts and tones silent: only the conference is heard.
fn quiet() -> PromptSet {
    PromptSet::constant(0, 0, 0, 0)
}

fn join(call: u64, sockets: PortPair, media: MediaTarget) -> RoomCommand {
    let entry = Entry::Room {
        room: RoomNumber::parse("800").unwrap(),
        pin_required: false,
    };
    RoomCommand::Join {
        call: CallId(call),
        io: MediaPath::Sockets(sockets),
        media,
        entry,
        menu: MenuConfig::default(),
        wallclock: Duration::from_secs(1_750_000_000),
    }
}

fn settings(timeout_ms: u64) -> RoomSettings {
    RoomSettings {
        media_timeout: Duration::from_millis(timeout_ms),
        jitter_min: Duration::from_millis(20),
        jitter_max: Duration::from_millis(200),
    }
}

#[test]
fn each_participant_hears_the_others_summed_and_not_itself() {
    let mut ports = pool();
    let mut room = room(0, quiet());
    let t0 = Instant::now();
    let mut phones = [
        TestPhone::new(1, 1000),
        TestPhone::new(2, 3000),
        TestPhone::new(3, 5000),
    ];
    let mut addrs = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        let sockets = ports.allocate().unwrap();
        addrs.push(sockets.rtp.local_addr().unwrap());
        let media = target(phone, 100 + i as u32);
        room.command(t0, join(i as u64, sockets, media));
    }
    let mut events = Vec::new();
    let mut io = SocketIo::new();
    for n in 0..20u32 {
        for (phone, addr) in phones.iter_mut().zip(&addrs) {
            phone.send_frame(*addr);
        }
        room.tick(
            t0 + Duration::from_millis(20 * u64::from(n)),
            &mut io,
            &mut events,
        );
    }
    let heard: Vec<i16> = phones
        .iter()
        .map(|p| p.heard().expect("audio arrives"))
        .collect();
    // G.711 is within a few percent of the linear value at these levels.
    for (got, want) in heard.iter().zip([8000, 6000, 4000]) {
        assert!(
            (i32::from(*got) - want).abs() < want / 20,
            "heard {heard:?}"
        );
    }
    let talking = events
        .iter()
        .filter(|e| matches!(e, RoomEvent::Talking { talking: true, .. }))
        .count();
    assert_eq!(talking, 3, "all three talk: {events:?}");
    assert!(
        events
            .iter()
            .all(|e| matches!(e, RoomEvent::Joined { .. } | RoomEvent::Talking { .. })),
        "{events:?}"
    );
}

/// Counts this thread's allocations while asked to (the whole unit-test binary uses it).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    struct Counting;

    thread_local! {
        static COUNTING: Cell<bool> = const { Cell::new(false) };
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if COUNTING.with(|c| c.get()) {
                COUNT.with(|c| c.set(c.get() + 1));
            }
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    /// Allocations made by `f` on this thread.
    pub fn allocations(f: impl FnOnce()) -> u64 {
        COUNT.with(|c| c.set(0));
        COUNTING.with(|c| c.set(true));
        f();
        COUNTING.with(|c| c.set(false));
        COUNT.with(|c| c.get())
    }
}

/// The whole room tick — sockets, mixing, sending, and the metrics updates (lateness
/// histogram, late ticks, the once-a-second leg counter flush) — allocates nothing.
#[test]
fn the_room_tick_with_metrics_does_not_allocate() {
    let metrics = Arc::new(crate::metrics::MediaMetrics::default());
    let mut ports = pool();
    let mut room = room(0, quiet()).with_metrics(metrics.clone());
    let t0 = Instant::now();
    let mut phones = [
        TestPhone::new(1, 1000),
        TestPhone::new(2, 3000),
        TestPhone::new(3, 5000),
    ];
    let mut addrs = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        let sockets = ports.allocate().unwrap();
        addrs.push(sockets.rtp.local_addr().unwrap());
        room.command(t0, join(i as u64, sockets, target(phone, 400 + i as u32)));
    }
    let mut events = Vec::with_capacity(64);
    let mut io = SocketIo::new();
    let mut counted = 0;
    for n in 0..400u64 {
        for (phone, addr) in phones.iter_mut().zip(&addrs) {
            phone.send_frame(*addr);
        }
        for phone in &phones {
            phone.heard();
        }
        events.clear();
        let lateness = Duration::from_micros(n % 7 * 500);
        let now = t0 + Duration::from_millis(20 * n);
        let allocated = counting::allocations(|| {
            room.tick_started(lateness);
            room.tick(now, &mut io, &mut events);
        });
        // The first ticks grow buffers (jitter buffer, prompt queue) once.
        if n >= 100 {
            counted += allocated;
        }
    }
    assert_eq!(counted, 0, "allocations in 300 ticks");
    assert_eq!(metrics.participants.get(), 3);
    assert_eq!(metrics.ticks.get(), 400);
    // Lateness 0…3 ms in 0.5 ms steps: 2.5 and 3 ms are late.
    let late = (0..400u64).filter(|n| n % 7 >= 5).count() as u64;
    assert_eq!(metrics.ticks_late.get(), late);
    assert!(metrics.rtp_packets_received.get() >= 3 * 350);
    assert!(metrics.rtp_packets_sent.get() >= 3 * 350);
    room.command(t0, RoomCommand::Leave { call: CallId(0) });
    assert_eq!(metrics.participants.get(), 2);
}
