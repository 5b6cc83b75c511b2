//! Scheduled conferences, their invitees, each user's remembered form values and the form's
//! default texts. A change and the mails it causes are written in one transaction, so a mail
//! is never lost and never sent for a change that did not happen; `outbox.rs` hands the
//! mails to the worker and records what became of them.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A scheduled conference as stored (times in Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledConference {
    pub id: i64,
    pub owner: String,
    /// The calendar UID (stable across updates).
    pub uid: String,
    pub title: String,
    pub description: String,
    pub location: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// The PIN works from `opens_at` until `closes_at`.
    pub opens_at: i64,
    pub closes_at: i64,
    /// IANA name.
    pub time_zone: String,
    pub dial_in_minutes: i64,
    pub pin: String,
    pub reply_to: Option<String>,
    /// `en` or `de`.
    pub language: String,
    /// The calendar SEQUENCE: 0, then one more per update mailed.
    pub sequence: i64,
    pub cancelled_at: Option<i64>,
    pub created_at: i64,
}

impl ScheduledConference {
    /// Where it stands at `now` (Unix seconds): `cancelled`, `upcoming` (before the PIN
    /// works), `open` (the PIN works) or `over`.
    pub fn status(&self, now: i64) -> &'static str {
        if self.cancelled_at.is_some() {
            "cancelled"
        } else if now < self.opens_at {
            "upcoming"
        } else if now < self.closes_at {
            "open"
        } else {
            "over"
        }
    }
}

/// An invitee of a scheduled conference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitee {
    pub email: String,
    /// A number to call at the start ("call at start").
    pub phone: Option<String>,
    pub call_at_start: bool,
    /// The token of the invitee's personal link (`/j/TOKEN`).
    pub link_token: Option<String>,
}

/// A mail ready to be queued: envelope and the whole RFC 5322 message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMail {
    pub recipient: String,
    pub sender: String,
    pub message: Vec<u8>,
}

/// What a user entered last time (prefilled next time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedulePreferences {
    pub reply_to: Option<String>,
    pub participants: Vec<String>,
}

const CONFERENCE_COLUMNS: &str = "id, owner, uid, title, description, location, starts_at, \
     ends_at, opens_at, closes_at, time_zone, dial_in_minutes, pin, reply_to, language, \
     sequence, cancelled_at, created_at";

fn conference_from_row(row: &SqliteRow) -> Result<ScheduledConference, StoreError> {
    Ok(ScheduledConference {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        uid: row.try_get("uid")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        location: row.try_get("location")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        opens_at: row.try_get("opens_at")?,
        closes_at: row.try_get("closes_at")?,
        time_zone: row.try_get("time_zone")?,
        dial_in_minutes: row.try_get("dial_in_minutes")?,
        pin: row.try_get("pin")?,
        reply_to: row.try_get("reply_to")?,
        language: row.try_get("language")?,
        sequence: row.try_get("sequence")?,
        cancelled_at: row.try_get("cancelled_at")?,
        created_at: row.try_get("created_at")?,
    })
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Sqlite>;

fn invitee_from_row(r: &SqliteRow) -> Result<Invitee, StoreError> {
    Ok(Invitee {
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        call_at_start: r.try_get("call_at_start")?,
        link_token: r.try_get("link_token")?,
    })
}

/// Whether `pin` is valid at some instant of [opens, closes) besides conference `except`:
/// another scheduled conference's window overlaps, or a room has it as its fixed PIN.
async fn pin_taken(
    tx: &mut Tx<'_>,
    pin: &str,
    opens: i64,
    closes: i64,
    except: Option<i64>,
) -> Result<bool, StoreError> {
    let room: Option<i64> = sqlx::query_scalar("SELECT 1 FROM rooms WHERE pin = ?1")
        .bind(pin)
        .fetch_optional(&mut **tx)
        .await?;
    if room.is_some() {
        return Ok(true);
    }
    let scheduled: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM scheduled_conferences WHERE pin = ?1 AND cancelled_at IS NULL \
         AND opens_at < ?3 AND ?2 < closes_at AND (?4 IS NULL OR id <> ?4) LIMIT 1",
    )
    .bind(pin)
    .bind(opens)
    .bind(closes)
    .bind(except)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(scheduled.is_some())
}

async fn queue(
    tx: &mut Tx<'_>,
    conference: i64,
    mails: &[NewMail],
    now: i64,
) -> Result<(), StoreError> {
    for mail in mails {
        sqlx::query(
            "INSERT INTO mail_outbox (conference, recipient, sender, message, next_attempt_at, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .bind(conference)
        .bind(&mail.recipient)
        .bind(&mail.sender)
        .bind(&mail.message)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn add_invitees(
    tx: &mut Tx<'_>,
    conference: i64,
    invitees: &[Invitee],
    now: i64,
) -> Result<(), StoreError> {
    for invitee in invitees {
        sqlx::query(
            "INSERT INTO conference_invitees (conference, email, phone, call_at_start, added_at, \
             link_token) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (conference, email) DO UPDATE SET \
             phone = excluded.phone, call_at_start = excluded.call_at_start, \
             link_token = COALESCE(conference_invitees.link_token, excluded.link_token)",
        )
        .bind(conference)
        .bind(&invitee.email)
        .bind(&invitee.phone)
        .bind(invitee.call_at_start)
        .bind(now)
        .bind(&invitee.link_token)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Whether `pin` would collide with a PIN valid in [opens, closes) (see [`Store::create_conference`]).
    pub async fn schedule_pin_taken(
        &self,
        pin: &str,
        opens: i64,
        closes: i64,
        except: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        pin_taken(&mut tx, pin, opens, closes, except).await
    }

    /// Stores a conference (its `id`, `sequence`, `cancelled_at` and `created_at` are
    /// ignored), its invitees and the mails announcing it, all or nothing.
    /// [`StoreError::PinInUse`] if its PIN is valid at an overlapping time elsewhere
    /// (checked again here, inside the transaction: draw another and retry).
    pub async fn create_conference(
        &self,
        conference: &ScheduledConference,
        invitees: &[Invitee],
        mails: &[NewMail],
        now: i64,
    ) -> Result<ScheduledConference, StoreError> {
        let mut tx = self.pool().begin().await?;
        let c = conference;
        if pin_taken(&mut tx, &c.pin, c.opens_at, c.closes_at, None).await? {
            return Err(StoreError::PinInUse);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO scheduled_conferences (owner, uid, title, description, location, \
             starts_at, ends_at, opens_at, closes_at, time_zone, dial_in_minutes, pin, \
             reply_to, language, sequence, created_at) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0, ?15) \
             RETURNING {CONFERENCE_COLUMNS}"
        ))
        .bind(&c.owner)
        .bind(&c.uid)
        .bind(&c.title)
        .bind(&c.description)
        .bind(&c.location)
        .bind(c.starts_at)
        .bind(c.ends_at)
        .bind(c.opens_at)
        .bind(c.closes_at)
        .bind(&c.time_zone)
        .bind(c.dial_in_minutes)
        .bind(&c.pin)
        .bind(&c.reply_to)
        .bind(&c.language)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let stored = conference_from_row(&row)?;
        add_invitees(&mut tx, stored.id, invitees, now).await?;
        queue(&mut tx, stored.id, mails, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces a conference's mutable fields (times, texts) — `sequence` as given — adds
    /// invitees and queues mails, all or nothing; [`StoreError::PinInUse`] if the new window
    /// makes its PIN collide.
    pub async fn update_conference(
        &self,
        conference: &ScheduledConference,
        new_invitees: &[Invitee],
        mails: &[NewMail],
        now: i64,
    ) -> Result<ScheduledConference, StoreError> {
        let mut tx = self.pool().begin().await?;
        let c = conference;
        if pin_taken(&mut tx, &c.pin, c.opens_at, c.closes_at, Some(c.id)).await? {
            return Err(StoreError::PinInUse);
        }
        let row = sqlx::query(&format!(
            "UPDATE scheduled_conferences SET title = ?2, description = ?3, location = ?4, \
             starts_at = ?5, ends_at = ?6, opens_at = ?7, closes_at = ?8, time_zone = ?9, \
             dial_in_minutes = ?10, reply_to = ?11, language = ?12, sequence = ?13 \
             WHERE id = ?1 AND cancelled_at IS NULL RETURNING {CONFERENCE_COLUMNS}"
        ))
        .bind(c.id)
        .bind(&c.title)
        .bind(&c.description)
        .bind(&c.location)
        .bind(c.starts_at)
        .bind(c.ends_at)
        .bind(c.opens_at)
        .bind(c.closes_at)
        .bind(&c.time_zone)
        .bind(c.dial_in_minutes)
        .bind(&c.reply_to)
        .bind(&c.language)
        .bind(c.sequence)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NoSuchConference(c.id));
        };
        let stored = conference_from_row(&row)?;
        add_invitees(&mut tx, stored.id, new_invitees, now).await?;
        queue(&mut tx, stored.id, mails, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Cancels a conference (its PIN stops working) and queues the cancellation mails.
    pub async fn cancel_conference(
        &self,
        id: i64,
        sequence: i64,
        mails: &[NewMail],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE scheduled_conferences SET cancelled_at = ?2, sequence = ?3 \
             WHERE id = ?1 AND cancelled_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(sequence)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchConference(id));
        }
        queue(&mut tx, id, mails, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One conference (cancelled ones too).
    pub async fn scheduled_conference(
        &self,
        id: i64,
    ) -> Result<Option<ScheduledConference>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM scheduled_conferences WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(conference_from_row).transpose()
    }

    /// Conferences of one owner, or everyone's (`None`), latest start first.
    pub async fn scheduled_conferences(
        &self,
        owner: Option<&str>,
    ) -> Result<Vec<ScheduledConference>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM scheduled_conferences \
             WHERE ?1 IS NULL OR owner = ?1 ORDER BY starts_at DESC, id DESC"
        ))
        .bind(owner)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(conference_from_row).collect()
    }

    /// Conferences not cancelled whose window has not closed by `now` (for the PIN index).
    pub async fn live_scheduled_conferences(
        &self,
        now: i64,
    ) -> Result<Vec<ScheduledConference>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONFERENCE_COLUMNS} FROM scheduled_conferences \
             WHERE cancelled_at IS NULL AND closes_at > ?1 ORDER BY opens_at"
        ))
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(conference_from_row).collect()
    }

    /// A conference's invitees, in the order they were added.
    pub async fn conference_invitees(&self, id: i64) -> Result<Vec<Invitee>, StoreError> {
        let rows = sqlx::query(
            "SELECT email, phone, call_at_start, link_token FROM conference_invitees \
             WHERE conference = ?1 ORDER BY added_at, email",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(invitee_from_row).collect()
    }

    /// The conference and invitee a personal-link token belongs to.
    pub async fn conference_invitee_by_link(
        &self,
        token: &str,
    ) -> Result<Option<(ScheduledConference, Invitee)>, StoreError> {
        let row = sqlx::query(
            "SELECT conference, email, phone, call_at_start, link_token FROM conference_invitees \
             WHERE link_token = ?1",
        )
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("conference")?;
        let invitee = invitee_from_row(&row)?;
        Ok(self.scheduled_conference(id).await?.map(|c| (c, invitee)))
    }

    /// What the user entered last time.
    pub async fn schedule_preferences(
        &self,
        user: &str,
    ) -> Result<SchedulePreferences, StoreError> {
        let row =
            sqlx::query("SELECT reply_to, participants FROM schedule_preferences WHERE user = ?1")
                .bind(user)
                .fetch_optional(self.pool())
                .await?;
        let Some(row) = row else {
            return Ok(SchedulePreferences::default());
        };
        let participants: String = row.try_get("participants")?;
        Ok(SchedulePreferences {
            reply_to: row.try_get("reply_to")?,
            participants: serde_json::from_str(&participants).unwrap_or_default(),
        })
    }

    /// Remembers the form values for next time.
    pub async fn set_schedule_preferences(
        &self,
        user: &str,
        prefs: &SchedulePreferences,
    ) -> Result<(), StoreError> {
        let participants =
            serde_json::to_string(&prefs.participants).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO schedule_preferences (user, reply_to, participants) \
             VALUES (?1, ?2, ?3) ON CONFLICT (user) DO UPDATE SET \
             reply_to = excluded.reply_to, \
             participants = excluded.participants",
        )
        .bind(user)
        .bind(&prefs.reply_to)
        .bind(participants)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRoom, SipUser};
    use konferenz_conference::{Pin, RoomNumber};

    async fn store() -> Store {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store
            .put_sip_user(
                &SipUser {
                    number: "201".into(),
                    name: "Anna".into(),
                    realm: "konferenz".into(),
                    ha1_md5: "x".into(),
                    ha1_sha256: "y".into(),
                    email: Some("anna@example.org".into()),
                    web_password: None,
                    admin: false,
                    organiser: true,
                },
                false,
            )
            .await
            .unwrap();
        store
    }

    fn conference(uid: &str, pin: &str, opens: i64, closes: i64) -> ScheduledConference {
        ScheduledConference {
            id: 0,
            owner: "201".into(),
            uid: uid.into(),
            title: "Weekly".into(),
            description: "Dial <number>".into(),
            location: "Phone".into(),
            starts_at: opens + 600,
            ends_at: closes - 300,
            opens_at: opens,
            closes_at: closes,
            time_zone: "Europe/Zurich".into(),
            dial_in_minutes: 10,
            pin: pin.into(),
            reply_to: Some("anna@example.org".into()),
            language: "de".into(),
            sequence: 0,
            cancelled_at: None,
            created_at: 0,
        }
    }

    fn mail(to: &str) -> NewMail {
        NewMail {
            recipient: to.into(),
            sender: "konferenz@example.org".into(),
            message: format!("To: {to}\r\n\r\nhello").into_bytes(),
        }
    }

    fn invitee(email: &str) -> Invitee {
        Invitee {
            email: email.into(),
            phone: None,
            call_at_start: false,
            link_token: Some(format!("tok-{email}")),
        }
    }

    #[tokio::test]
    async fn a_conference_and_its_mails_are_stored_together_or_not_at_all() {
        let store = store().await;
        let a = store
            .create_conference(
                &conference("u1", "123456", 1000, 5000),
                &[invitee("b@example.org")],
                &[mail("b@example.org")],
                900,
            )
            .await
            .unwrap();
        assert_eq!(a.sequence, 0);
        assert_eq!(store.conference_invitees(a.id).await.unwrap().len(), 1);
        let (found, who) = store
            .conference_invitee_by_link("tok-b@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.id, who.email.as_str()), (a.id, "b@example.org"));
        assert_eq!(
            store.conference_invitee_by_link("nope").await.unwrap(),
            None
        );
        // The same PIN in an overlapping window is refused, and nothing of it is stored.
        let clash = store
            .create_conference(
                &conference("u2", "123456", 4000, 8000),
                &[invitee("c@example.org")],
                &[mail("c@example.org")],
                900,
            )
            .await;
        assert!(matches!(clash, Err(StoreError::PinInUse)), "{clash:?}");
        assert_eq!(store.outbox(None, 10).await.unwrap().len(), 1);
        // Not overlapping: fine. A room's fixed PIN always collides.
        store
            .create_conference(&conference("u3", "123456", 5000, 8000), &[], &[], 900)
            .await
            .unwrap();
        let n = RoomNumber::parse("800").unwrap();
        let pin = Pin::parse("777777").unwrap();
        store
            .add_room(&NewRoom {
                pin: Some(&pin),
                ..NewRoom::new(&n)
            })
            .await
            .unwrap();
        assert!(
            store
                .schedule_pin_taken("777777", 0, 10, None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .schedule_pin_taken("123456", 9000, 9100, None)
                .await
                .unwrap()
        );
        assert!(
            !store
                .schedule_pin_taken("123456", 1000, 5000, Some(a.id))
                .await
                .unwrap()
        );

        // Update: a higher sequence, more invitees, the update mails.
        let mut changed = a.clone();
        changed.sequence = 1;
        changed.ends_at += 600;
        changed.closes_at += 600; // now overlaps u3 (opens 5000) with the same PIN
        let refused = store.update_conference(&changed, &[], &[], 950).await;
        assert!(matches!(refused, Err(StoreError::PinInUse)));
        changed.closes_at = 5000;
        let updated = store
            .update_conference(
                &changed,
                &[invitee("d@example.org")],
                &[mail("b@example.org"), mail("d@example.org")],
                950,
            )
            .await
            .unwrap();
        assert_eq!(updated.sequence, 1);
        assert_eq!(store.conference_invitees(a.id).await.unwrap().len(), 2);
        store
            .cancel_conference(a.id, 2, &[mail("b@example.org")], 960)
            .await
            .unwrap();
        assert!(
            store
                .scheduled_conference(a.id)
                .await
                .unwrap()
                .unwrap()
                .cancelled_at
                .is_some()
        );
        assert!(matches!(
            store.cancel_conference(a.id, 3, &[], 970).await,
            Err(StoreError::NoSuchConference(_))
        ));
        assert_eq!(store.live_scheduled_conferences(0).await.unwrap().len(), 1);
        assert_eq!(store.outbox(Some(a.id), 10).await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn the_outbox_hands_out_due_mails_and_records_each_outcome() {
        let store = store().await;
        let c = store
            .create_conference(
                &conference("u1", "123456", 1000, 5000),
                &[],
                &[
                    mail("a@example.org"),
                    mail("b@example.org"),
                    mail("c@example.org"),
                ],
                100,
            )
            .await
            .unwrap();
        assert_eq!(store.next_mail_due().await.unwrap(), Some(100));
        let due = store.due_mails(100, 10).await.unwrap();
        assert_eq!(due.len(), 3);
        store.mail_sent(due[0].id, 101).await.unwrap();
        store
            .mail_retry(due[1].id, 160, "421 try later")
            .await
            .unwrap();
        store
            .mail_failed(due[2].id, "550 no such user")
            .await
            .unwrap();
        assert!(store.due_mails(150, 10).await.unwrap().is_empty());
        let later = store.due_mails(160, 10).await.unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].attempts, 1);
        assert_eq!(later[0].last_error.as_deref(), Some("421 try later"));
        let all = store.outbox(Some(c.id), 10).await.unwrap();
        let states: Vec<&str> = all.iter().rev().map(|m| m.state.as_str()).collect();
        assert_eq!(states, ["sent", "queued", "failed"]);

        let prefs = SchedulePreferences {
            reply_to: Some("anna@example.org".into()),
            participants: vec!["b@example.org".into()],
        };
        assert_eq!(
            store.schedule_preferences("201").await.unwrap(),
            SchedulePreferences::default()
        );
        store.set_schedule_preferences("201", &prefs).await.unwrap();
        assert_eq!(store.schedule_preferences("201").await.unwrap(), prefs);
    }
}

/// The scheduling form's default texts in one language.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScheduleTexts {
    pub title: String,
    pub description: String,
    pub location: String,
}

impl Store {
    /// The administrator's default texts for `lang` (`en`, `de`), if set.
    pub async fn schedule_texts(&self, lang: &str) -> Result<Option<ScheduleTexts>, StoreError> {
        let row = sqlx::query(
            "SELECT title, description, location FROM schedule_defaults WHERE lang = ?1",
        )
        .bind(lang)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ScheduleTexts {
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                location: r.try_get("location")?,
            })
        })
        .transpose()
    }

    /// Sets the default texts for `lang` (`en`, `de`).
    pub async fn set_schedule_texts(
        &self,
        lang: &str,
        texts: &ScheduleTexts,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO schedule_defaults (lang, title, description, location) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (lang) DO UPDATE SET title = excluded.title, \
             description = excluded.description, location = excluded.location",
        )
        .bind(lang)
        .bind(&texts.title)
        .bind(&texts.description)
        .bind(&texts.location)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
