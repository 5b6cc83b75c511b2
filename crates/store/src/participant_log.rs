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

impl Store {
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
        rows.iter()
            .map(|row| {
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
            })
            .collect()
    }
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
    }
}
