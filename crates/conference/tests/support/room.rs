//! Room 800 on the fake network: prompts, tones and music silent (only the conference is
//! heard), and joining a participant straight past the menu (no PIN).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use konferenz_conference::*;

use super::net::{Net, Ports};

/// Room 800 with silent prompts; `media_timeout` zero never hangs up.
pub fn quiet_room(media_timeout: Duration) -> Room<Ports> {
    let library = PromptSet::constant(0, 0, 0, 0);
    let music = library.music.clone();
    Room::new(
        RoomNumber::parse("800").unwrap(),
        RoomSettings {
            media_timeout,
            jitter_min: Duration::from_millis(20),
            jitter_max: Duration::from_millis(200),
        },
        Arc::new(library),
        music,
    )
}

/// A join of `call` into room 800 without a PIN.
pub fn join_800(call: u64, io: Ports, media: MediaTarget) -> RoomCommand<Ports> {
    RoomCommand::Join {
        call: CallId(call),
        io,
        media,
        entry: Entry::Room {
            room: RoomNumber::parse("800").unwrap(),
            pin_required: false,
        },
        menu: MenuConfig::default(),
        wallclock: Duration::from_secs(1_750_000_000),
    }
}

/// Joins `call` on new ports of `net`; returns the room's RTP address for it.
pub fn join(
    room: &mut Room<Ports>,
    net: &Net,
    t0: Instant,
    call: u64,
    media: MediaTarget,
) -> SocketAddr {
    let ports = net.ports();
    let addr = ports.rtp.addr;
    room.command(t0, join_800(call, ports, media));
    addr
}
