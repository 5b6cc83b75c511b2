//! The event bus: every [`Event`] the conference machine emits is stamped with the next
//! sequence number and the wall-clock time here and published once. Publishing also
//! updates, in the same step, the participants view (the [`Roster`]), the event counters
//! of `/metrics` and the queue to the history writer; subscribers (`GET /api/events`,
//! server-sent events) get a bounded replay of recent events so a late or reconnecting
//! client resumes from its last sequence number. Control plane only: the 20 ms audio path
//! never touches it, so the mutex here is fine.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use konferenz_conference::{Event, EventKind, RoomNumber, Roster, RosterEntry};
use konferenz_store::ParticipantEvent;
use tokio::sync::{broadcast, mpsc};

/// How many recent events are kept for replay and buffered per live subscriber.
pub const REPLAY: usize = 4096;

/// A subscription: the backlog after the asked-for sequence number, then live events.
pub struct Subscription {
    /// Events after `since` still in the replay buffer, oldest first.
    pub backlog: Vec<Arc<Event>>,
    /// `since` was older than the replay buffer: events were missed, reload the state.
    pub gap: bool,
    pub live: broadcast::Receiver<Arc<Event>>,
}

struct Inner {
    seq: u64,
    replay: VecDeque<Arc<Event>>,
    roster: Roster,
    /// Rooms locked now (a lock ends with the conference).
    locked: std::collections::HashSet<RoomNumber>,
    /// The history writer's queue; taken at shutdown so the writer can finish.
    history: Option<mpsc::Sender<ParticipantEvent>>,
}

/// Cheap to clone; all clones publish to and read from one bus.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Mutex<Inner>>,
    live: broadcast::Sender<Arc<Event>>,
    metrics: Option<Arc<crate::metrics::EventMetrics>>,
}

impl Bus {
    /// A bus with this roster (restored from the history) that queues participant changes
    /// for the history writer.
    pub fn new(
        roster: Roster,
        history: Option<mpsc::Sender<ParticipantEvent>>,
        metrics: Option<Arc<crate::metrics::EventMetrics>>,
    ) -> Self {
        let (live, _) = broadcast::channel(REPLAY);
        Self {
            inner: Arc::new(Mutex::new(Inner {
                seq: 0,
                replay: VecDeque::with_capacity(REPLAY),
                roster,
                locked: Default::default(),
                history,
            })),
            live,
            metrics,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere must not take the API down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes one change; returns it as published.
    pub fn publish(&self, room: RoomNumber, kind: EventKind) -> Arc<Event> {
        let at = unix_ms();
        let mut inner = self.lock();
        inner.seq += 1;
        let event = Arc::new(Event {
            seq: inner.seq,
            at,
            room,
            kind,
        });
        inner.roster.apply(&event);
        match &event.kind {
            EventKind::RoomLocked { locked: true } => {
                inner.locked.insert(event.room.clone());
            }
            EventKind::RoomLocked { locked: false } | EventKind::ConferenceEnded => {
                inner.locked.remove(&event.room);
            }
            _ => {}
        }
        if inner.replay.len() == REPLAY {
            inner.replay.pop_front();
        }
        inner.replay.push_back(event.clone());
        // Sent under the lock, so a subscriber's backlog and live stream never overlap
        // or leave a hole.
        let _ = self.live.send(event.clone());
        let history = inner.history.clone();
        drop(inner);
        if let Some(metrics) = &self.metrics {
            metrics.observe(&event.kind);
        }
        if let EventKind::Participant {
            call,
            number,
            state,
            status,
            reason,
            ..
        } = &event.kind
        {
            tracing::info!(call = call.0, room = %event.room, state = %state, "participant");
            tracing::debug!(call = call.0, number = %number, "participant number");
            if let Some(history) = &history {
                let stored = ParticipantEvent {
                    call: call.0,
                    room: event.room.to_string(),
                    number: number.clone(),
                    state: (*state).to_owned(),
                    status: *status,
                    reason: reason.clone(),
                    at: event.at / 1000,
                };
                if history.try_send(stored).is_err() {
                    tracing::warn!(
                        call = call.0,
                        "history writer is behind; a participant change was not stored"
                    );
                }
            }
        }
        event
    }

    /// Whether the room is locked now.
    pub fn locked(&self, room: &RoomNumber) -> bool {
        self.lock().locked.contains(room)
    }

    /// Subscribes from after `since` (None: only what comes next).
    pub fn subscribe(&self, since: Option<u64>) -> Subscription {
        let inner = self.lock();
        let live = self.live.subscribe();
        let Some(since) = since else {
            return Subscription {
                backlog: Vec::new(),
                gap: false,
                live,
            };
        };
        let oldest = inner.replay.front().map_or(inner.seq + 1, |e| e.seq);
        // Too far back, or ahead of this server's numbering (the client saw a server that
        // has since restarted): either way the client must reload.
        let gap = (since.saturating_add(1) < oldest && since < inner.seq) || since > inner.seq;
        let backlog = inner
            .replay
            .iter()
            .filter(|e| e.seq > since)
            .cloned()
            .collect();
        Subscription { backlog, gap, live }
    }

    /// The room's participants and the sequence number they are current to, read together
    /// (follow with `subscribe(Some(seq))` and nothing is missed or doubled).
    pub fn snapshot(&self, room: &RoomNumber) -> (u64, Vec<RosterEntry>) {
        let inner = self.lock();
        (inner.seq, inner.roster.of_room(room))
    }

    /// The room a call is in (or was, recently).
    pub fn room_of(&self, call: konferenz_conference::CallId) -> Option<RoomNumber> {
        self.lock().roster.room_of(call)
    }

    /// Stops queueing participant changes for the history writer (at shutdown, after the
    /// last call ended), so it can write what it has and end.
    pub fn close_history(&self) {
        self.lock().history = None;
    }

    /// The latest sequence number published.
    #[cfg(test)]
    pub fn seq(&self) -> u64 {
        self.lock().seq
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use konferenz_conference::{CallId, ParticipantState};

    fn room() -> RoomNumber {
        RoomNumber::parse("800").unwrap()
    }

    fn joined(call: u64) -> EventKind {
        EventKind::participant(CallId(call), "201", &ParticipantState::Connected, false)
    }

    #[test]
    fn a_late_subscriber_resumes_after_its_sequence_number() {
        let bus = Bus::new(Roster::default(), None, None);
        for call in 1..=3 {
            bus.publish(room(), joined(call));
        }
        let mut sub = bus.subscribe(Some(1));
        assert!(!sub.gap);
        let seqs: Vec<u64> = sub.backlog.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 3]);
        bus.publish(room(), joined(4));
        assert_eq!(sub.live.try_recv().unwrap().seq, 4);
        let (seq, list) = bus.snapshot(&room());
        assert_eq!((seq, list.len()), (4, 4));
    }

    #[test]
    fn a_subscriber_too_far_behind_is_told_to_reload() {
        let bus = Bus::new(Roster::default(), None, None);
        for call in 0..(REPLAY as u64 + 10) {
            bus.publish(room(), joined(call));
        }
        let sub = bus.subscribe(Some(3));
        assert!(sub.gap);
        assert_eq!(sub.backlog.len(), REPLAY);
        assert!(!bus.subscribe(Some(bus.seq())).gap);
    }

    #[test]
    fn a_subscriber_ahead_of_this_servers_numbering_is_told_to_reload() {
        let bus = Bus::new(Roster::default(), None, None);
        bus.publish(room(), joined(1));
        assert!(
            bus.subscribe(Some(500)).gap,
            "it followed a server that restarted"
        );
        assert!(!bus.subscribe(Some(1)).gap);
    }

    #[test]
    fn the_lock_state_follows_the_events_and_ends_with_the_conference() {
        let bus = Bus::new(Roster::default(), None, None);
        assert!(!bus.locked(&room()));
        bus.publish(room(), EventKind::RoomLocked { locked: true });
        assert!(bus.locked(&room()));
        bus.publish(room(), EventKind::ConferenceEnded);
        assert!(!bus.locked(&room()));
        bus.publish(room(), joined(7));
        assert_eq!(bus.room_of(CallId(7)), Some(room()));
        assert_eq!(bus.room_of(CallId(8)), None);
    }
}
