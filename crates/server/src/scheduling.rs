//! Scheduling conferences — shared by the API and `konferenz schedule`: checks the form,
//! draws the PIN (OS RNG, unique among PINs valid at overlapping times, rooms' fixed PINs
//! included), composes the invitation mails (`konferenz-mail`) and stores the conference
//! with its mails in one transaction; later: add participants, update (higher SEQUENCE,
//! everyone mailed), cancel (METHOD:CANCEL). Sending is the outbox worker's job.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use konferenz_conference::Pin;
use konferenz_conference::schedule::{Window, draw_pin, fill_template};
use konferenz_mail::{Invitation, Lang, Mailbox, Method};
use konferenz_store::{Invitee, NewMail, ScheduledConference, Store, StoreError};

use crate::config::{MailConfig, ScheduleConfig};

/// Most invitees of one conference.
pub const MAX_PARTICIPANTS: usize = 200;

/// Why a scheduling request was refused; `field` names the form field.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no scheduled conference {0}")]
    NotFound(i64),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("composing the mail failed: {0}")]
    Mail(String),
}

fn invalid(field: &'static str, message: impl std::fmt::Display) -> ScheduleError {
    ScheduleError::Invalid {
        field,
        message: message.to_string(),
    }
}

/// One invitee as requested.
#[derive(Clone, Debug)]
pub struct ParticipantRequest {
    pub email: String,
    pub phone: Option<String>,
    pub call_at_start: bool,
}

/// The scheduling form.
#[derive(Clone, Debug)]
pub struct ConferenceRequest {
    pub title: String,
    pub description: String,
    pub location: String,
    /// RFC 3339 with offset.
    pub start: String,
    /// IANA name.
    pub time_zone: String,
    pub duration_minutes: u32,
    pub dial_in_minutes_before: u32,
    pub reply_to: Option<String>,
    pub participants: Vec<ParticipantRequest>,
    /// `en` or `de`.
    pub language: String,
}

/// The organiser as the mails name them.
#[derive(Clone, Debug)]
pub struct Organiser {
    pub number: String,
    pub name: String,
    pub email: Option<String>,
}

/// Everything scheduling needs.
#[derive(Clone)]
pub struct Scheduler {
    pub store: Store,
    pub mail: MailConfig,
    pub schedule: ScheduleConfig,
    /// The number people dial (`dialin.external_number`, else the first shared number).
    pub dial_in_number: Option<String>,
    /// The domain of UIDs and Message-IDs (the From address's).
    pub domain: String,
    /// Base of personal links in the mails (`http.public_url`, else `http://<http.listen>`).
    pub link_base: String,
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// Unix seconds as RFC 3339 (UTC), as the API shows times.
pub fn rfc3339(unix: i64) -> String {
    Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn checked_email(text: &str, field: &'static str) -> Result<String, ScheduleError> {
    crate::accounts::parse_email(text).map_err(|m| invalid(field, m))
}

fn language(text: &str) -> Result<Lang, ScheduleError> {
    match text {
        "en" => Ok(Lang::En),
        "de" => Ok(Lang::De),
        _ => Err(invalid("language", "en or de")),
    }
}

/// The window and the start as an absolute time, checked.
fn window(
    req: &ConferenceRequest,
    grace_minutes: u32,
) -> Result<(Window, TimeZone), ScheduleError> {
    let tz = TimeZone::get(req.time_zone.trim())
        .map_err(|_| invalid("time_zone", "an IANA time zone such as Europe/Zurich"))?;
    let starts: Timestamp = req.start.trim().parse().map_err(|_| {
        invalid(
            "start",
            "RFC 3339 with an offset, e.g. 2026-12-07T09:00:00+01:00",
        )
    })?;
    let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
    if req.dial_in_minutes_before > 120 {
        return Err(invalid("dial_in_minutes_before", "0 to 120 minutes"));
    }
    let window = Window::new(
        starts,
        minutes(req.duration_minutes),
        minutes(req.dial_in_minutes_before),
        minutes(grace_minutes),
    )
    .map_err(|e| invalid("duration_minutes", e))?;
    Ok((window, tz))
}

impl Scheduler {
    fn sender_mailbox(&self) -> Result<Mailbox, ScheduleError> {
        Mailbox::parse(&self.mail.from).map_err(|e| ScheduleError::Mail(e.to_string()))
    }

    fn dial_in(&self) -> Result<String, ScheduleError> {
        self.dial_in_number.clone().ok_or_else(|| {
            ScheduleError::Conflict(
                "no dial-in number configured: set dialin.external_number".into(),
            )
        })
    }

    /// The invitation of `c` as the mails carry it.
    fn invitation(
        &self,
        c: &ScheduledConference,
        organiser: &Organiser,
        attendees: Vec<String>,
        method: Method,
    ) -> Result<Invitation, ScheduleError> {
        let number = self.dial_in()?;
        let lang = language(&c.language)?;
        let organizer = Mailbox {
            name: Some(organiser.name.clone()),
            email: organiser
                .email
                .clone()
                .or_else(|| c.reply_to.clone())
                .unwrap_or_else(|| self.sender_mailbox().map(|m| m.email).unwrap_or_default()),
        };
        Ok(Invitation {
            uid: c.uid.clone(),
            sequence: u32::try_from(c.sequence).unwrap_or(0),
            method,
            title: c.title.clone(),
            description: fill_template(&c.description, &number, &c.pin),
            location: c.location.clone(),
            starts: Timestamp::from_second(c.starts_at).unwrap_or_default(),
            ends: Timestamp::from_second(c.ends_at).unwrap_or_default(),
            time_zone: c.time_zone.clone(),
            organizer,
            attendees,
            dial_in_number: number,
            pin: c.pin.clone(),
            lang,
        })
    }

    /// One mail per recipient of `invitation`, each with the recipient's personal link.
    fn mails(
        &self,
        invitation: &Invitation,
        recipients: &[Invitee],
        reply_to: Option<&str>,
    ) -> Result<Vec<NewMail>, ScheduleError> {
        let from = self.sender_mailbox()?;
        let reply_to = reply_to.map(|r| Mailbox {
            name: None,
            email: r.to_owned(),
        });
        recipients
            .iter()
            .map(|to| {
                let mut personal = invitation.clone();
                if let Some(token) = &to.link_token {
                    let line = match invitation.lang {
                        Lang::De => "Ihr persönlicher Link (Einwahl, Rückruf, Kalender)",
                        Lang::En => "Your personal link (dial-in, call me, calendar)",
                    };
                    personal.description = format!(
                        "{}\n\n{line}: {}/j/{token}",
                        personal.description.trim_end(),
                        self.link_base.trim_end_matches('/')
                    );
                }
                let composed = konferenz_mail::compose(
                    &personal,
                    &from,
                    &to.email,
                    reply_to.as_ref(),
                    &self.domain,
                    now(),
                )
                .map_err(|e| ScheduleError::Mail(e.to_string()))?;
                Ok(NewMail {
                    recipient: to.email.clone(),
                    sender: composed.from,
                    message: composed.bytes,
                })
            })
            .collect()
    }

    /// The calendar text of `c` for an invitee's `.ics` download.
    pub async fn calendar(&self, c: &ScheduledConference) -> Result<String, ScheduleError> {
        let invitees = self.store.conference_invitees(c.id).await?;
        let organiser = match self.store.find_sip_user(&c.owner).await? {
            Some(u) => Organiser {
                number: u.number,
                name: u.name,
                email: u.email,
            },
            None => Organiser {
                number: c.owner.clone(),
                name: c.owner.clone(),
                email: None,
            },
        };
        let method = if c.cancelled_at.is_some() {
            Method::Cancel
        } else {
            Method::Request
        };
        let emails = invitees.into_iter().map(|i| i.email).collect();
        let invitation = self.invitation(c, &organiser, emails, method)?;
        konferenz_mail::calendar(&invitation, now()).map_err(|e| ScheduleError::Mail(e.to_string()))
    }

    fn participants(list: &[ParticipantRequest]) -> Result<Vec<Invitee>, ScheduleError> {
        if list.len() > MAX_PARTICIPANTS {
            return Err(invalid(
                "participants",
                format!("at most {MAX_PARTICIPANTS}"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for p in list {
            let email = checked_email(&p.email, "participants")?;
            let phone = p
                .phone
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    konferenz_conference::Dialable::parse(p)
                        .map(|d| d.as_str().to_owned())
                        .map_err(|e| invalid("participants", e))
                })
                .transpose()?;
            if p.call_at_start && phone.is_none() {
                return Err(invalid(
                    "participants",
                    format!("{email}: call at start needs a phone number"),
                ));
            }
            if seen.insert(email.to_lowercase()) {
                out.push(Invitee {
                    email,
                    phone,
                    call_at_start: p.call_at_start,
                    link_token: Some(crate::api::link_token()),
                });
            }
        }
        Ok(out)
    }

    /// Schedules a conference and queues an invitation to every participant.
    pub async fn create(
        &self,
        organiser: &Organiser,
        req: &ConferenceRequest,
    ) -> Result<ScheduledConference, ScheduleError> {
        let title = req.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid("title", "1 to 200 characters"));
        }
        if req.description.chars().count() > 10_000 {
            return Err(invalid("description", "at most 10 000 characters"));
        }
        if req.location.chars().count() > 200 {
            return Err(invalid("location", "at most 200 characters"));
        }
        let (window, _tz) = window(req, self.schedule.grace_minutes)?;
        if window.ends <= now() {
            return Err(invalid("start", "the conference would be over already"));
        }
        let reply_to = req
            .reply_to
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| checked_email(r, "reply_to"))
            .transpose()?;
        let invitees = Self::participants(&req.participants)?;
        if invitees.is_empty() {
            return Err(invalid("participants", "name at least one e-mail address"));
        }
        language(&req.language)?;
        self.dial_in()?;
        let at = now().as_second();
        // A fresh PIN until one is free inside the store's transaction too.
        for _ in 0..10 {
            let pin = self.draw(window).await?;
            let conference = ScheduledConference {
                id: 0,
                owner: organiser.number.clone(),
                uid: format!(
                    "{}@{}",
                    crate::api::secret("")[..24].to_owned(),
                    self.domain
                ),
                title: title.to_owned(),
                description: req.description.clone(),
                location: req.location.trim().to_owned(),
                starts_at: window.starts.as_second(),
                ends_at: window.ends.as_second(),
                opens_at: window.opens.as_second(),
                closes_at: window.closes.as_second(),
                time_zone: req.time_zone.trim().to_owned(),
                dial_in_minutes: i64::from(req.dial_in_minutes_before),
                pin: pin.reveal().to_owned(),
                reply_to: reply_to.clone(),
                language: req.language.clone(),
                sequence: 0,
                cancelled_at: None,
                created_at: at,
            };
            let emails: Vec<String> = invitees.iter().map(|i| i.email.clone()).collect();
            let invitation =
                self.invitation(&conference, organiser, emails.clone(), Method::Request)?;
            let mails = self.mails(&invitation, &invitees, reply_to.as_deref())?;
            match self
                .store
                .create_conference(&conference, &invitees, &mails, at)
                .await
            {
                Err(StoreError::PinInUse) => continue,
                other => return Ok(other?),
            }
        }
        Err(ScheduleError::Conflict(
            "no free PIN found; configure longer PINs (schedule.pin_length)".into(),
        ))
    }

    async fn draw(&self, window: Window) -> Result<Pin, ScheduleError> {
        let mut rng = rand::rngs::OsRng;
        // Draw a handful, then ask the store which are free (the store checks again when
        // it writes).
        let mut candidates = Vec::new();
        for _ in 0..5 {
            let pin = draw_pin(
                self.schedule.pin_length,
                || rand::Rng::gen_range(&mut rng, 0..10u8),
                |_| false,
            )
            .map_err(|e| ScheduleError::Conflict(e.to_string()))?;
            candidates.push(pin);
        }
        for pin in candidates {
            let taken = self
                .store
                .schedule_pin_taken(
                    pin.reveal(),
                    window.opens.as_second(),
                    window.closes.as_second(),
                    None,
                )
                .await?;
            if !taken {
                return Ok(pin);
            }
        }
        Err(ScheduleError::Conflict(
            "no free PIN found; configure longer PINs (schedule.pin_length)".into(),
        ))
    }
}

/// Changes to a scheduled conference; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct ConferenceChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub start: Option<String>,
    pub time_zone: Option<String>,
    pub duration_minutes: Option<u32>,
    pub dial_in_minutes_before: Option<u32>,
}

impl Scheduler {
    /// The conference `id` if `owner` may change it (administrators: any).
    pub async fn owned(
        &self,
        id: i64,
        owner: Option<&str>,
    ) -> Result<ScheduledConference, ScheduleError> {
        let c = self
            .store
            .scheduled_conference(id)
            .await?
            .ok_or(ScheduleError::NotFound(id))?;
        if owner.is_some_and(|o| o != c.owner) {
            return Err(ScheduleError::NotFound(id));
        }
        Ok(c)
    }

    fn live(c: &ScheduledConference) -> Result<(), ScheduleError> {
        if c.cancelled_at.is_some() {
            return Err(ScheduleError::Conflict(
                "the conference is cancelled".into(),
            ));
        }
        if c.closes_at <= now().as_second() {
            return Err(ScheduleError::Conflict("the conference is over".into()));
        }
        Ok(())
    }

    /// Invites more participants: they get the invitation as it stands.
    pub async fn add_participants(
        &self,
        c: &ScheduledConference,
        organiser: &Organiser,
        list: &[ParticipantRequest],
    ) -> Result<Vec<Invitee>, ScheduleError> {
        Self::live(c)?;
        let existing = self.store.conference_invitees(c.id).await?;
        let fresh: Vec<Invitee> = Self::participants(list)?
            .into_iter()
            .filter(|i| {
                !existing
                    .iter()
                    .any(|e| e.email.eq_ignore_ascii_case(&i.email))
            })
            .collect();
        if fresh.is_empty() {
            return Err(invalid("participants", "everyone named is invited already"));
        }
        let attendees: Vec<String> = existing
            .iter()
            .chain(&fresh)
            .map(|i| i.email.clone())
            .collect();
        let invitation = self.invitation(c, organiser, attendees, Method::Request)?;
        let mails = self.mails(&invitation, &fresh, c.reply_to.as_deref())?;
        self.store
            .update_conference(c, &fresh, &mails, now().as_second())
            .await?;
        Ok(fresh)
    }

    /// Changes time or texts: everyone gets an update with a higher SEQUENCE. A window
    /// that makes the PIN collide is refused (409) and nothing changes.
    pub async fn update(
        &self,
        c: &ScheduledConference,
        organiser: &Organiser,
        changes: &ConferenceChanges,
    ) -> Result<ScheduledConference, ScheduleError> {
        Self::live(c)?;
        let tz = changes
            .time_zone
            .clone()
            .unwrap_or_else(|| c.time_zone.clone());
        let start = match &changes.start {
            Some(s) => s.clone(),
            None => Timestamp::from_second(c.starts_at)
                .unwrap_or_default()
                .to_string(),
        };
        let duration = changes
            .duration_minutes
            .unwrap_or(((c.ends_at - c.starts_at) / 60) as u32);
        let request = ConferenceRequest {
            title: changes.title.clone().unwrap_or_else(|| c.title.clone()),
            description: changes
                .description
                .clone()
                .unwrap_or_else(|| c.description.clone()),
            location: changes
                .location
                .clone()
                .unwrap_or_else(|| c.location.clone()),
            start,
            time_zone: tz,
            duration_minutes: duration,
            dial_in_minutes_before: changes
                .dial_in_minutes_before
                .unwrap_or(c.dial_in_minutes as u32),
            reply_to: c.reply_to.clone(),
            participants: Vec::new(),
            language: c.language.clone(),
        };
        let title = request.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid("title", "1 to 200 characters"));
        }
        let (window, _) = window(&request, self.schedule.grace_minutes)?;
        let updated = ScheduledConference {
            title,
            description: request.description.clone(),
            location: request.location.trim().to_owned(),
            starts_at: window.starts.as_second(),
            ends_at: window.ends.as_second(),
            opens_at: window.opens.as_second(),
            closes_at: window.closes.as_second(),
            time_zone: request.time_zone.trim().to_owned(),
            dial_in_minutes: i64::from(request.dial_in_minutes_before),
            sequence: c.sequence + 1,
            ..c.clone()
        };
        let invitees = self.store.conference_invitees(c.id).await?;
        let emails: Vec<String> = invitees.iter().map(|i| i.email.clone()).collect();
        let invitation = self.invitation(&updated, organiser, emails.clone(), Method::Request)?;
        let mails = self.mails(&invitation, &invitees, c.reply_to.as_deref())?;
        match self
            .store
            .update_conference(&updated, &[], &mails, now().as_second())
            .await
        {
            Err(StoreError::PinInUse) => Err(ScheduleError::Conflict(
                "the conference's PIN is taken at the new time; cancel and schedule anew".into(),
            )),
            other => Ok(other?),
        }
    }

    /// Cancels: the PIN stops working and everyone gets METHOD:CANCEL.
    pub async fn cancel(
        &self,
        c: &ScheduledConference,
        organiser: &Organiser,
    ) -> Result<(), ScheduleError> {
        if c.cancelled_at.is_some() {
            return Err(ScheduleError::Conflict(
                "the conference is cancelled".into(),
            ));
        }
        let invitees = self.store.conference_invitees(c.id).await?;
        let emails: Vec<String> = invitees.iter().map(|i| i.email.clone()).collect();
        let cancelled = ScheduledConference {
            sequence: c.sequence + 1,
            ..c.clone()
        };
        let invitation = self.invitation(&cancelled, organiser, emails.clone(), Method::Cancel)?;
        let mails = self.mails(&invitation, &invitees, c.reply_to.as_deref())?;
        self.store
            .cancel_conference(c.id, cancelled.sequence, &mails, now().as_second())
            .await?;
        Ok(())
    }
}
