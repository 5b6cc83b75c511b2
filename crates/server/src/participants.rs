//! The participants' history in the database: at start the latest calls' timelines are
//! read back into the [`Roster`] (calls the server did not see end are closed as left),
//! and while running a writer task appends every participant change the bus publishes, a
//! batch per wake-up. The queue to it is bounded ([`QUEUE`]); the bus says when it is full.

use konferenz_conference::{CallId, RoomNumber, Roster};
use konferenz_store::{ParticipantEvent, Store};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

/// Participant changes waiting for the database at most.
pub const QUEUE: usize = 8192;

/// How many past calls are read back at start (the roster keeps only the recent ones).
const HISTORY_CALLS: u32 = 1000;

/// The roster restored from the database, and the highest call id seen.
pub async fn restore(store: &Store, roster: &mut Roster) -> u64 {
    let last = store.last_participant_call().await.unwrap_or_else(|e| {
        warn!(error = %e, "cannot read the participant log");
        0
    });
    let history = store
        .recent_participant_events(HISTORY_CALLS)
        .await
        .unwrap_or_default();
    for e in &history {
        let Ok(room) = RoomNumber::parse(&e.room) else {
            continue;
        };
        roster.restore(
            &room,
            CallId(e.call),
            &e.number,
            &e.state,
            e.status,
            e.reason.as_deref(),
            e.at,
        );
    }
    // The server stopped without ending these calls: they are over now.
    let now = unix_now();
    let closed: Vec<ParticipantEvent> = roster
        .active()
        .into_iter()
        .map(|(room, entry)| {
            roster.restore(
                &room,
                CallId(entry.call),
                &entry.number,
                "left",
                None,
                None,
                now,
            );
            ParticipantEvent {
                call: entry.call,
                room: room.to_string(),
                number: entry.number,
                state: "left".into(),
                status: None,
                reason: None,
                at: now,
            }
        })
        .collect();
    if !closed.is_empty()
        && let Err(e) = store.append_participant_events(&closed).await
    {
        warn!(error = %e, "cannot close the calls of the last run");
    }
    roster.prune(now.saturating_mul(1000));
    last
}

/// Starts the writer: returns its queue and the task, which ends (all written) once every
/// sender is dropped.
pub fn writer(store: Store) -> (mpsc::Sender<ParticipantEvent>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (tx, tokio::spawn(write_log(store, rx)))
}

async fn write_log(store: Store, mut rx: mpsc::Receiver<ParticipantEvent>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 512).await > 0 {
        if let Err(e) = store.append_participant_events(&batch).await {
            warn!(error = %e, events = batch.len(), "cannot store participant events");
        }
        batch.clear();
    }
}

fn unix_now() -> u64 {
    u64::try_from(crate::location::unix(std::time::SystemTime::now())).unwrap_or(0)
}
