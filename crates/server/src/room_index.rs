//! The room index: the stored rooms (numbers, PINs, languages, room-wide mute) as the
//! conference machine decides admission and PINs from them, in memory. A task watches the
//! store's room version (bumped by a trigger on every change, whichever process made it,
//! e.g. `konferenz room pin` while the server runs) and sends a fresh index when it moves.
//! Rooms' own music is decoded once per file here (off the SIP task) and shared by every
//! call, not read and resampled per call.

use std::collections::HashMap;
use std::time::Duration;

use konferenz_conference::{RoomInfo, RoomNumber};
use konferenz_media::{Prompt, decode_wav};
use konferenz_store::{Room, Store};
use tokio::sync::{mpsc, watch};
use tracing::warn;

/// How often the store's room version is read.
pub const POLL: Duration = Duration::from_millis(250);

/// A new index for the SIP task.
pub struct IndexUpdate {
    pub rooms: Vec<RoomInfo>,
    /// Scheduled conferences whose window has not closed.
    pub scheduled: Vec<konferenz_conference::ScheduledRoom>,
    /// Rooms whose own music is (now) this, or the default (None).
    pub music: Vec<(RoomNumber, Option<Prompt>)>,
}

/// Decoded music by file path, so a file is read and resampled once.
#[derive(Default)]
pub struct MusicCache {
    decoded: HashMap<String, Option<Prompt>>,
}

impl MusicCache {
    /// The index of `rooms`, decoding music files not seen before.
    pub async fn update(&mut self, rooms: &[Room]) -> IndexUpdate {
        let mut music = Vec::with_capacity(rooms.len());
        for room in rooms {
            let prompt = match &room.music {
                Some(path) => {
                    if !self.decoded.contains_key(path) {
                        let decoded = decode(room, path.clone()).await;
                        self.decoded.insert(path.clone(), decoded);
                    }
                    self.decoded[path].clone()
                }
                None => None,
            };
            music.push((room.number.clone(), prompt));
        }
        IndexUpdate {
            rooms: rooms.iter().map(info).collect(),
            scheduled: Vec::new(),
            music,
        }
    }
}

/// The room a scheduled conference runs in: `c` and its id (never a stored room's
/// number, and not dialable: rooms are found by the index, which has no such entry).
pub fn scheduled_room_number(id: i64) -> konferenz_conference::RoomNumber {
    konferenz_conference::RoomNumber::parse(&format!("c{id}"))
        .expect("c<digits> is a valid room number")
}

/// Scheduled conferences whose window has not closed, as the conference machine needs them.
pub async fn scheduled(store: &Store) -> Vec<konferenz_conference::ScheduledRoom> {
    let now = crate::location::unix(std::time::SystemTime::now());
    let list = match store.live_scheduled_conferences(now).await {
        Ok(list) => list,
        Err(e) => {
            warn!(error = %e, "cannot read the scheduled conferences");
            return Vec::new();
        }
    };
    list.into_iter()
        .filter_map(|c| {
            let ts = |s: i64| jiff::Timestamp::from_second(s).ok();
            let window = konferenz_conference::schedule::Window {
                opens: ts(c.opens_at)?,
                starts: ts(c.starts_at)?,
                ends: ts(c.ends_at)?,
                closes: ts(c.closes_at)?,
            };
            Some(konferenz_conference::ScheduledRoom {
                number: scheduled_room_number(c.id),
                pin: konferenz_conference::Pin::parse(&c.pin).ok()?,
                window,
                time_zone: jiff::tz::TimeZone::get(&c.time_zone).ok()?,
                language: konferenz_conference::Language::parse(&c.language).ok(),
            })
        })
        .collect()
}

fn info(room: &Room) -> RoomInfo {
    RoomInfo {
        number: room.number.clone(),
        pin: room.pin,
        language: room.language,
        language_switch: room.language_switch,
        muted: room.muted,
    }
}

/// Decodes a room's music file (blocking file I/O and resampling, so not on the loop).
async fn decode(room: &Room, path: String) -> Option<Prompt> {
    let shown = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
        decode_wav(&bytes).map_err(|e| e.to_string())
    })
    .await;
    match result {
        Ok(Ok(prompt)) => Some(prompt),
        Ok(Err(error)) => {
            warn!(room = %room.number, file = %shown, %error, "cannot use the room's music; playing the default");
            None
        }
        Err(_) => None,
    }
}

/// Sends a fresh index whenever the store's rooms change, until shutdown.
pub async fn watch(
    store: Store,
    mut cache: MusicCache,
    mut version: i64,
    updates: mpsc::Sender<IndexUpdate>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut poll = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = poll.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = match store.rooms_version().await {
            Ok(v) => v,
            Err(e) => {
                warn!(error = %e, "cannot read the room version");
                continue;
            }
        };
        if now == version {
            continue;
        }
        match store.list_rooms().await {
            Ok(rooms) => {
                version = now;
                let mut update = cache.update(&rooms).await;
                update.scheduled = scheduled(&store).await;
                if updates.send(update).await.is_err() {
                    return;
                }
            }
            Err(e) => warn!(error = %e, "cannot read the rooms"),
        }
    }
}
