//! `konferenz schedule add|list|show|update|cancel`: the scheduling rules of the API from
//! the command line, written straight to the database (the running server's outbox worker
//! picks the mails up within seconds).

use anyhow::{Context, bail};
use clap::Subcommand;
use konferenz_store::Store;

use crate::config::Config;
use crate::scheduling::{
    ConferenceChanges, ConferenceRequest, Organiser, ParticipantRequest, Scheduler,
};

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Schedule a conference and mail every participant an invitation.
    Add {
        /// The organiser's user number (an organiser or administrator).
        #[arg(long)]
        user: String,
        #[arg(long)]
        title: String,
        /// Start, RFC 3339 with offset: 2026-12-07T09:00:00+01:00.
        #[arg(long)]
        start: String,
        /// IANA time zone the invitation is shown in.
        #[arg(long, default_value = "Europe/Zurich")]
        time_zone: String,
        /// Minutes.
        #[arg(long, default_value_t = 60)]
        duration: u32,
        /// Minutes before the start the PIN already works.
        #[arg(long, default_value_t = 10)]
        dial_in_before: u32,
        /// A participant's e-mail address (repeat for more).
        #[arg(long = "participant", required = true)]
        participants: Vec<String>,
        /// The mail body; <number> and <pin> are replaced (default: the configured one).
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        location: Option<String>,
        #[arg(long)]
        reply_to: Option<String>,
        /// en or de.
        #[arg(long, default_value = "en")]
        language: String,
    },
    /// Scheduled conferences (of one organiser, or all).
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One conference with its participants and their mail states.
    Show { id: i64 },
    /// Change time, duration or texts; everyone gets an update.
    Update {
        id: i64,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long)]
        duration: Option<u32>,
        #[arg(long)]
        dial_in_before: Option<u32>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        location: Option<String>,
    },
    /// Cancel: the PIN stops working and everyone gets a cancellation.
    Cancel { id: i64 },
}

async fn organiser(store: &Store, number: &str) -> anyhow::Result<Organiser> {
    let Some(user) = store.find_sip_user(number).await? else {
        bail!("no user {number}");
    };
    if !(user.organiser || user.admin) {
        bail!("user {number} may not organise conferences (user set --organiser true)");
    }
    Ok(Organiser {
        number: user.number,
        name: user.name,
        email: user.email,
    })
}

fn utc(unix: i64) -> String {
    crate::cli::utc_timestamp(unix)
}

/// Runs `konferenz schedule ...`.
pub async fn run(command: ScheduleCommand, store: &Store, config: &Config) -> anyhow::Result<()> {
    let scheduler: Scheduler = crate::serve::scheduler(config, store.clone());
    match command {
        ScheduleCommand::Add {
            user,
            title,
            start,
            time_zone,
            duration,
            dial_in_before,
            participants,
            description,
            location,
            reply_to,
            language,
        } => {
            let organiser = organiser(store, &user).await?;
            let german = language == "de";
            let stored = store
                .schedule_texts(if german { "de" } else { "en" })
                .await?;
            let s = &config.schedule;
            let fallback = |de: &String, en: &String| if german { de.clone() } else { en.clone() };
            let request = ConferenceRequest {
                title,
                description: description.unwrap_or_else(|| match &stored {
                    Some(t) => t.description.clone(),
                    None => fallback(&s.default_description_de, &s.default_description_en),
                }),
                location: location.unwrap_or_else(|| match &stored {
                    Some(t) => t.location.clone(),
                    None => fallback(&s.default_location_de, &s.default_location_en),
                }),
                start,
                time_zone,
                duration_minutes: duration,
                dial_in_minutes_before: dial_in_before,
                reply_to: reply_to.or_else(|| organiser.email.clone()),
                participants: participants
                    .into_iter()
                    .map(|email| ParticipantRequest {
                        email,
                        phone: None,
                        call_at_start: false,
                    })
                    .collect(),
                language,
            };
            let c = scheduler.create(&organiser, &request).await?;
            println!(
                "conference {} scheduled: dial {} and enter PIN {} ({} to {} UTC); {} invitations queued",
                c.id,
                scheduler.dial_in_number.as_deref().unwrap_or("?"),
                c.pin,
                utc(c.starts_at),
                utc(c.ends_at),
                request.participants.len()
            );
        }
        ScheduleCommand::List { user, json } => {
            let list = store.scheduled_conferences(user.as_deref()).await?;
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "id": c.id, "title": c.title, "owner": c.owner,
                            "start": utc(c.starts_at), "end": utc(c.ends_at),
                            "time_zone": c.time_zone, "cancelled": c.cancelled_at.is_some(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if list.is_empty() {
                println!("no scheduled conferences");
            } else {
                let rows: Vec<[String; 5]> = list
                    .iter()
                    .map(|c| {
                        [
                            c.id.to_string(),
                            utc(c.starts_at),
                            c.owner.clone(),
                            if c.cancelled_at.is_some() {
                                "cancelled"
                            } else {
                                "-"
                            }
                            .to_owned(),
                            c.title.clone(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    crate::table::render(["ID", "START", "OWNER", "STATE", "TITLE"], &rows)
                );
            }
        }
        ScheduleCommand::Show { id } => {
            let c = scheduler.owned(id, None).await?;
            println!("conference {}: {}", c.id, c.title);
            println!(
                "  {} to {} UTC ({}), PIN works {} to {}",
                utc(c.starts_at),
                utc(c.ends_at),
                c.time_zone,
                utc(c.opens_at),
                utc(c.closes_at)
            );
            println!(
                "  dial {} PIN {}{}",
                scheduler.dial_in_number.as_deref().unwrap_or("?"),
                c.pin,
                if c.cancelled_at.is_some() {
                    "  (cancelled)"
                } else {
                    ""
                }
            );
            let mails = store.outbox(Some(c.id), 10_000).await?;
            for invitee in store.conference_invitees(c.id).await? {
                let latest = mails
                    .iter()
                    .find(|m| m.recipient.eq_ignore_ascii_case(&invitee.email));
                let state = match latest {
                    Some(m) => match &m.last_error {
                        Some(e) if m.state != "sent" => format!("{} ({e})", m.state),
                        _ => m.state.clone(),
                    },
                    None => "-".to_owned(),
                };
                println!("  {}  {state}", invitee.email);
            }
        }
        ScheduleCommand::Update {
            id,
            start,
            time_zone,
            duration,
            dial_in_before,
            title,
            description,
            location,
        } => {
            let c = scheduler.owned(id, None).await?;
            let organiser = organiser(store, &c.owner)
                .await
                .context("the conference's organiser")?;
            let changes = ConferenceChanges {
                title,
                description,
                location,
                start,
                time_zone,
                duration_minutes: duration,
                dial_in_minutes_before: dial_in_before,
            };
            let updated = scheduler.update(&c, &organiser, &changes).await?;
            println!(
                "conference {id} updated (sequence {}); update mails queued",
                updated.sequence
            );
        }
        ScheduleCommand::Cancel { id } => {
            let c = scheduler.owned(id, None).await?;
            let organiser = organiser(store, &c.owner)
                .await
                .context("the conference's organiser")?;
            scheduler.cancel(&c, &organiser).await?;
            println!("conference {id} cancelled; cancellation mails queued");
        }
    }
    Ok(())
}
