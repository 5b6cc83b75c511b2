//! "Call at start": when a scheduled conference starts, the server calls every invitee who
//! gave a phone number and asked for it into the conference (an invitation like any other:
//! its states show in the window and the event stream). Checked once a second; a start
//! missed while the server was down is not called late.

use std::time::Duration;

use konferenz_conference::Dialable;
use tokio::sync::watch;

use crate::api::ApiState;

/// Runs until `shutdown`.
pub async fn run(state: ApiState, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut since = jiff::Timestamp::now().as_second();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        let now = jiff::Timestamp::now().as_second();
        if now <= since {
            continue;
        }
        let due = match state.store.live_scheduled_conferences(since).await {
            Ok(list) => list
                .into_iter()
                .filter(|c| since < c.starts_at && c.starts_at <= now),
            Err(e) => {
                tracing::warn!(error = %e, "reading scheduled conferences");
                continue;
            }
        };
        for conference in due.collect::<Vec<_>>() {
            let room = crate::room_index::scheduled_room_number(conference.id);
            let invitees = match state.store.conference_invitees(conference.id).await {
                Ok(list) => list,
                Err(e) => {
                    tracing::warn!(error = %e, "reading invitees");
                    continue;
                }
            };
            for invitee in invitees.into_iter().filter(|i| i.call_at_start) {
                let Some(phone) = invitee.phone.as_deref() else {
                    continue;
                };
                let Ok(callee) = Dialable::parse(phone) else {
                    continue;
                };
                match crate::api::place(&state, &room, &callee).await {
                    Ok(call) => tracing::info!(
                        conference = conference.id,
                        call = call.0,
                        "called an invitee at the start"
                    ),
                    Err(e) => {
                        tracing::warn!(conference = conference.id, error = %e, "cannot call an invitee at the start")
                    }
                }
            }
        }
        since = now;
    }
}
