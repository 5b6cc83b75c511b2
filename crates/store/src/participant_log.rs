//! The participant event log: each state change of a call in a room (calling, ringing,
//! connected, left, busy, …) with its time, appended by the server and read back at start
//! so the timelines outlive a restart.

use sqlx::Row;

use crate::{Store, StoreError};

/// One stored state change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParticipantEvent {
    pub call: u64,
    pub room: String,
    pub number: String,
    pub state: String,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Unix seconds.
    pub at: u64,
}

/// One past call of a room with its timeline, as the history API pages it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CallHistory {
    pub call: u64,
    pub number: String,
    /// The last state.
    pub state: String,
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Every change, oldest first.
    pub events: Vec<HistoryChange>,
}

/// One change in a past call's timeline.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryChange {
    pub state: String,
    /// Unix seconds.
    pub at: u64,
}

impl Store {
    /// A page of a room's past calls, newest first: at most `limit` calls with an id below
    /// `before` (all if None).
    pub async fn participant_history(
        &self,
        room: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<CallHistory>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows = sqlx::query(
            "SELECT * FROM participant_events WHERE room = ?1 AND call IN \
             (SELECT DISTINCT call FROM participant_events WHERE room = ?1 AND call < ?2 \
              ORDER BY call DESC LIMIT ?3) \
             ORDER BY call DESC, id",
        )
        .bind(room)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut calls: Vec<CallHistory> = Vec::new();
        for row in &rows {
            let e = event_of(row)?;
            match calls.last_mut() {
                Some(c) if c.call == e.call => {
                    c.state.clone_from(&e.state);
                    if e.status.is_some() {
                        c.status = e.status;
                        c.reason.clone_from(&e.reason);
                    }
                    c.events.push(HistoryChange {
                        state: e.state,
                        at: e.at,
                    });
                }
                _ => calls.push(CallHistory {
                    call: e.call,
                    number: e.number,
                    state: e.state.clone(),
                    status: e.status,
                    reason: e.reason,
                    events: vec![HistoryChange {
                        state: e.state,
                        at: e.at,
                    }],
                }),
            }
        }
        Ok(calls)
    }

    /// Appends events (one transaction).
    pub async fn append_participant_events(
        &self,
        events: &[ParticipantEvent],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for e in events {
            sqlx::query(
                "INSERT INTO participant_events (call, room, number, state, status, reason, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .bind(i64::try_from(e.call).unwrap_or(i64::MAX))
            .bind(&e.room)
            .bind(&e.number)
            .bind(&e.state)
            .bind(e.status.map(i64::from))
            .bind(&e.reason)
            .bind(i64::try_from(e.at).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The highest call id ever stored (0 if none): new calls continue after it.
    pub async fn last_participant_call(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = sqlx::query("SELECT MAX(call) AS m FROM participant_events")
            .fetch_one(self.pool())
            .await?
            .try_get("m")?;
        Ok(max.and_then(|m| u64::try_from(m).ok()).unwrap_or(0))
    }

    /// The events of the latest `calls` calls, oldest first.
    pub async fn recent_participant_events(
        &self,
        calls: u32,
    ) -> Result<Vec<ParticipantEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM participant_events WHERE call IN \
             (SELECT DISTINCT call FROM participant_events ORDER BY call DESC LIMIT ?1) \
             ORDER BY id",
        )
        .bind(i64::from(calls))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_of).collect()
    }
}

fn event_of(row: &sqlx::sqlite::SqliteRow) -> Result<ParticipantEvent, StoreError> {
    let call: i64 = row.try_get("call")?;
    let status: Option<i64> = row.try_get("status")?;
    let at: i64 = row.try_get("at")?;
    Ok(ParticipantEvent {
        call: u64::try_from(call).unwrap_or_default(),
        room: row.try_get("room")?,
        number: row.try_get("number")?,
        state: row.try_get("state")?,
        status: status.and_then(|s| u16::try_from(s).ok()),
        reason: row.try_get("reason")?,
        at: u64::try_from(at).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(call: u64, state: &str, at: u64) -> ParticipantEvent {
        ParticipantEvent {
            call,
            room: "800".into(),
            number: "201".into(),
            state: state.into(),
            status: (state == "busy").then_some(486),
            reason: (state == "busy").then(|| "Busy Here".into()),
            at,
        }
    }

    #[tokio::test]
    async fn events_round_trip_and_the_last_call_is_known() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        assert_eq!(store.last_participant_call().await.unwrap(), 0);
        let events = [
            event(1, "calling", 10),
            event(2, "calling", 11),
            event(1, "connected", 12),
            event(2, "busy", 13),
            event(3, "calling", 14),
        ];
        store.append_participant_events(&events).await.unwrap();
        assert_eq!(store.last_participant_call().await.unwrap(), 3);
        let recent = store.recent_participant_events(2).await.unwrap();
        assert_eq!(
            recent,
            vec![events[1].clone(), events[3].clone(), events[4].clone()]
        );
        let page = store.participant_history("800", None, 2).await.unwrap();
        let calls: Vec<u64> = page.iter().map(|c| c.call).collect();
        assert_eq!(calls, [3, 2], "newest first");
        assert_eq!(
            (page[1].state.as_str(), page[1].status),
            ("busy", Some(486))
        );
        assert_eq!(page[1].events.len(), 2);
        let next = store.participant_history("800", Some(2), 2).await.unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].call, 1);
        assert_eq!(next[0].state, "connected");
        assert!(
            store
                .participant_history("801", None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
