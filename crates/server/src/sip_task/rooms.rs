//! The registry of rooms: each is started on a mixer thread with its first participant and
//! closed with the last. Each entry counts the participants the SIP task has placed there.

use std::collections::HashMap;
use std::sync::Arc;

use konferenz_conference::RoomNumber;
use konferenz_sip::CallHandle;
use tokio::sync::mpsc;

use crate::metrics::MediaMetrics;
use crate::mixer::{MixerThreads, RoomJob};
use crate::prompts::PromptLibrary;
use crate::room::{Room, RoomCommand, RoomEvent, RoomSettings};

struct RoomEntry {
    commands: mpsc::Sender<RoomCommand>,
    members: usize,
}

pub(super) struct Rooms {
    settings: RoomSettings,
    library: Arc<PromptLibrary>,
    events: mpsc::Sender<RoomEvent>,
    rooms: HashMap<RoomNumber, RoomEntry>,
    /// Rooms' own on-hold music, for when their task is (re)started.
    music: HashMap<RoomNumber, konferenz_media::Prompt>,
    metrics: Arc<MediaMetrics>,
    mixer: MixerThreads,
}

impl Rooms {
    pub(super) fn new(
        settings: RoomSettings,
        library: Arc<PromptLibrary>,
        events: mpsc::Sender<RoomEvent>,
        metrics: Arc<MediaMetrics>,
        mixer: MixerThreads,
    ) -> Self {
        Self {
            settings,
            library,
            events,
            rooms: HashMap::new(),
            music: HashMap::new(),
            metrics,
            mixer,
        }
    }

    /// Remembers a room's own music, or forgets it (`None`: the default plays). A running
    /// room keeps what it started with.
    pub(super) fn set_music(
        &mut self,
        number: &RoomNumber,
        music: Option<konferenz_media::Prompt>,
    ) {
        match music {
            Some(music) => self.music.insert(number.clone(), music),
            None => self.music.remove(number),
        };
    }

    /// Sends a `Join`/`Adopt` to the room, spawning its task first if needed.
    pub(super) fn join(&mut self, number: &RoomNumber, command: RoomCommand) {
        let room = self.rooms.entry(number.clone()).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(ROOM_COMMANDS);
            let music = self
                .music
                .get(number)
                .cloned()
                .unwrap_or_else(|| self.library.music.clone());
            let room = Room::new(number.clone(), self.settings, self.library.clone(), music)
                .with_metrics(self.metrics.clone());
            self.mixer.add(RoomJob {
                room,
                commands: rx,
                events: self.events.clone(),
                metrics: self.metrics.clone(),
            });
            RoomEntry {
                commands: tx,
                members: 0,
            }
        });
        room.members += 1;
        send(&room.commands, number, command);
    }

    pub(super) fn send(&self, number: &RoomNumber, command: RoomCommand) {
        if let Some(room) = self.rooms.get(number) {
            send(&room.commands, number, command);
        }
    }

    /// The call left the room: `Leave`, and close the task if it was the last.
    pub(super) fn leave(&mut self, number: &RoomNumber, call: CallHandle) {
        self.send(
            number,
            RoomCommand::Leave {
                call: konferenz_conference::CallId(call.0),
            },
        );
        self.leave_without_command(number);
    }

    /// The room already let the participant go (a transfer): only count it.
    pub(super) fn leave_without_command(&mut self, number: &RoomNumber) {
        if let Some(room) = self.rooms.get_mut(number) {
            room.members = room.members.saturating_sub(1);
            if room.members == 0 {
                send(&room.commands, number, RoomCommand::Close);
                self.rooms.remove(number);
            }
        }
    }

    pub(super) fn close_all(&mut self) {
        for (number, room) in self.rooms.drain() {
            send(&room.commands, &number, RoomCommand::Close);
        }
    }
}

/// Commands queued for one room at most. A room drains its queue every 20 ms, so a full
/// queue means its mixer thread is stuck; the command is dropped and logged.
const ROOM_COMMANDS: usize = 1024;

fn send(commands: &mpsc::Sender<RoomCommand>, room: &RoomNumber, command: RoomCommand) {
    if let Err(mpsc::error::TrySendError::Full(command)) = commands.try_send(command) {
        tracing::error!(%room, ?command, "room is not taking commands; dropped");
    }
}
