//! The store writes the conference machine asks for (room-wide mute, blocks), applied in
//! order by one task so the SIP loop never waits for the database. The queue is bounded:
//! when the database is that far behind, a write is dropped and logged.

use std::time::{Duration, SystemTime};

use konferenz_conference::Persist;
use konferenz_store::{RoomBlock, Store};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::warn;

/// Writes waiting at most.
const QUEUE: usize = 1024;

/// A write, or a request to say when every write before it is done.
#[derive(Debug)]
enum Item {
    Write(Persist),
    Flush(oneshot::Sender<()>),
}

/// The writer's queue; cheap to clone.
#[derive(Clone, Debug)]
pub struct Persister {
    tx: mpsc::Sender<Item>,
}

impl Persister {
    /// Queues a write without waiting; a full queue drops it (logged).
    pub fn write(&self, write: Persist) {
        if let Err(mpsc::error::TrySendError::Full(Item::Write(write))) =
            self.tx.try_send(Item::Write(write))
        {
            warn!(
                change = kind(&write),
                "the database is behind; a conference change was not stored"
            );
        }
    }

    /// Waits until every write queued so far is in the database (an API answer that says
    /// "blocked" is true when a client reads the block list next).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Item::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// Starts the writer; it ends once every `Persister` is dropped and its queue is written.
pub fn start(store: Store) -> (Persister, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Item>(QUEUE);
    let task = tokio::spawn(async move {
        while let Some(item) = rx.recv().await {
            match item {
                Item::Write(write) => {
                    if let Err(e) = apply(&store, &write).await {
                        warn!(change = kind(&write), error = %e, "cannot store a conference change");
                    }
                }
                Item::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    });
    (Persister { tx }, task)
}

async fn apply(store: &Store, write: &Persist) -> Result<(), konferenz_store::StoreError> {
    match write {
        Persist::RoomMuted { room, muted } => store.set_room_muted(room, *muted).await,
        Persist::Block {
            room,
            who,
            invited,
            lasts,
        } => {
            store
                .put_room_block(&RoomBlock {
                    room: room.to_string(),
                    who: who.clone(),
                    kind: if *invited { "invited" } else { "caller-id" }.to_owned(),
                    until: lasts.map(|d| unix_now().saturating_add(secs(d))),
                })
                .await
        }
        Persist::Unblock { room, who } => store
            .remove_room_block(room.as_str(), who)
            .await
            .map(|_| ()),
    }
}

/// Blocks kept in the store, with the time each has left, for the conference machine.
pub async fn load_blocks(
    store: &Store,
) -> Vec<(konferenz_conference::RoomNumber, String, Option<Duration>)> {
    let now = unix_now();
    match store.room_blocks(now).await {
        Ok(blocks) => blocks
            .into_iter()
            .filter_map(|b| {
                let room = konferenz_conference::RoomNumber::parse(&b.room).ok()?;
                let left = b
                    .until
                    .map(|until| Duration::from_secs(u64::try_from(until - now).unwrap_or(0)));
                Some((room, b.who, left))
            })
            .collect(),
        Err(e) => {
            warn!(error = %e, "cannot read the block list");
            Vec::new()
        }
    }
}

/// What kind of change, for logs (never the number or caller ID a block names).
fn kind(write: &Persist) -> &'static str {
    match write {
        Persist::RoomMuted { .. } => "room-wide mute",
        Persist::Block { .. } => "block",
        Persist::Unblock { .. } => "unblock",
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn unix_now() -> i64 {
    crate::location::unix(SystemTime::now())
}
