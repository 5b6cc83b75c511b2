//! The phone book: contacts with labelled E.164 numbers (tables `phonebook_entries` and
//! `phonebook_numbers`).
//!
//! Search runs in Rust over the whole book ([`konferenz_conference::phonebook::search`])
//! rather than in SQL: its folding (accents, `ü` = `ue`, word starts, number forms) lives in
//! one place, and a phone book of a few thousand entries loads in milliseconds. If books
//! grow much larger, a folded-name column with an index can narrow the rows first.

use std::collections::BTreeMap;

use konferenz_conference::phonebook::{
    self, Contact, ContactError, ContactId, ContactNumber, MatchedBy, NumberError, PhoneNumber,
};
use sqlx::Row;
use sqlx::SqliteConnection;

use crate::{Store, StoreError};

/// A stored contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhonebookEntry {
    /// Its id, for `show`, `remove` and invitations.
    pub id: ContactId,
    /// Name, company and numbers.
    pub contact: Contact,
}

/// A search hit; see [`Store::search_phonebook`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhonebookMatch {
    /// The entry found.
    pub entry: PhonebookEntry,
    /// Whether the name, the company or a number matched.
    pub matched_by: MatchedBy,
}

/// What [`Store::import_phonebook`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// New entries.
    pub added: usize,
    /// Incoming contacts folded into an existing entry or an earlier one of the batch.
    pub merged: usize,
    /// Existing entries that gained numbers or a company.
    pub updated: usize,
}

/// An error from the phone-book part of the store.
#[derive(Debug, thiserror::Error)]
pub enum PhonebookError {
    /// No entry has this id.
    #[error("no phone-book entry {0}")]
    NoSuchEntry(ContactId),
    /// Another entry already has this number (a number belongs to one entry). The message
    /// shows the number: log this error at debug level only.
    #[error("entry {owner} already has the number {number}")]
    NumberInUse {
        /// The number.
        number: PhoneNumber,
        /// The entry that has it.
        owner: ContactId,
    },
    /// A stored number is not E.164 (the row was written by something else).
    #[error("stored number of entry {entry} is invalid: {source}")]
    BadStoredNumber {
        /// The entry.
        entry: ContactId,
        /// Why.
        source: NumberError,
    },
    /// A stored entry is not a valid contact (no name or no number).
    #[error("stored entry {entry} is invalid: {source}")]
    BadStoredEntry {
        /// The entry.
        entry: ContactId,
        /// Why.
        source: ContactError,
    },
    /// Any other database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PhonebookError {
    fn from(e: sqlx::Error) -> Self {
        PhonebookError::Store(StoreError::Database(e))
    }
}

impl Store {
    /// Adds a contact; [`PhonebookError::NumberInUse`] if another entry has one of its
    /// numbers (nothing is written then).
    pub async fn add_phonebook_entry(
        &self,
        contact: &Contact,
    ) -> Result<PhonebookEntry, PhonebookError> {
        let mut tx = self.pool().begin().await?;
        check_numbers_free(&mut tx, contact, None).await?;
        let id = insert_entry(&mut tx, contact).await?;
        tx.commit().await?;
        tracing::debug!(%id, "phone-book entry added");
        Ok(PhonebookEntry {
            id,
            contact: contact.clone(),
        })
    }

    /// All entries, ordered by name (case and accents ignored), then id.
    pub async fn list_phonebook(&self) -> Result<Vec<PhonebookEntry>, PhonebookError> {
        let mut conn = self.pool().acquire().await?;
        load_all(&mut conn).await
    }

    /// The entry with this id, if there is one.
    pub async fn phonebook_entry(
        &self,
        id: ContactId,
    ) -> Result<Option<PhonebookEntry>, PhonebookError> {
        let mut conn = self.pool().acquire().await?;
        let entries = load(&mut conn, Some(id)).await?;
        Ok(entries.into_iter().next())
    }

    /// Replaces an entry's name, company and numbers.
    pub async fn update_phonebook_entry(
        &self,
        id: ContactId,
        contact: &Contact,
    ) -> Result<PhonebookEntry, PhonebookError> {
        let mut tx = self.pool().begin().await?;
        check_numbers_free(&mut tx, contact, Some(id)).await?;
        let done = sqlx::query(
            "UPDATE phonebook_entries SET name = ?2, company = ?3, updated_at = unixepoch() \
             WHERE id = ?1",
        )
        .bind(id.0)
        .bind(contact.name())
        .bind(contact.company())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(PhonebookError::NoSuchEntry(id));
        }
        replace_numbers(&mut tx, id, contact).await?;
        tx.commit().await?;
        tracing::debug!(%id, "phone-book entry updated");
        Ok(PhonebookEntry {
            id,
            contact: contact.clone(),
        })
    }

    /// Deletes an entry and its numbers; [`PhonebookError::NoSuchEntry`] if unknown.
    pub async fn remove_phonebook_entry(&self, id: ContactId) -> Result<(), PhonebookError> {
        let done = sqlx::query("DELETE FROM phonebook_entries WHERE id = ?1")
            .bind(id.0)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(PhonebookError::NoSuchEntry(id));
        }
        Ok(())
    }

    /// Merges a batch of contacts into the book in one transaction
    /// (see [`phonebook::plan_merge`]): all of it is written, or nothing.
    pub async fn import_phonebook(
        &self,
        contacts: Vec<Contact>,
    ) -> Result<ImportOutcome, PhonebookError> {
        let mut tx = self.pool().begin().await?;
        let existing: Vec<(ContactId, Contact)> = load_all(&mut tx)
            .await?
            .into_iter()
            .map(|e| (e.id, e.contact))
            .collect();
        let plan = phonebook::plan_merge(&existing, contacts);
        for (id, contact) in &plan.changed {
            sqlx::query(
                "UPDATE phonebook_entries SET company = ?2, updated_at = unixepoch() \
                 WHERE id = ?1",
            )
            .bind(id.0)
            .bind(contact.company())
            .execute(&mut *tx)
            .await?;
            replace_numbers(&mut tx, *id, contact).await?;
        }
        for contact in &plan.added {
            insert_entry(&mut tx, contact).await?;
        }
        tx.commit().await?;
        let outcome = ImportOutcome {
            added: plan.added.len(),
            merged: plan.merged,
            updated: plan.changed.len(),
        };
        tracing::info!(
            added = outcome.added,
            merged = outcome.merged,
            updated = outcome.updated,
            "phone book imported"
        );
        Ok(outcome)
    }

    /// Entries matching `query` (a name, a company, a number prefix), best first.
    pub async fn search_phonebook(
        &self,
        query: &str,
    ) -> Result<Vec<PhonebookMatch>, PhonebookError> {
        let entries = self.list_phonebook().await?;
        let contacts: Vec<Contact> = entries.iter().map(|e| e.contact.clone()).collect();
        Ok(phonebook::search(query, &contacts)
            .into_iter()
            .map(|m| PhonebookMatch {
                entry: entries[m.index].clone(),
                matched_by: m.matched_by,
            })
            .collect())
    }
}

/// Refuses a contact whose numbers belong to an entry other than `own`.
async fn check_numbers_free(
    conn: &mut SqliteConnection,
    contact: &Contact,
    own: Option<ContactId>,
) -> Result<(), PhonebookError> {
    for n in contact.numbers() {
        let owner: Option<i64> =
            sqlx::query_scalar("SELECT entry_id FROM phonebook_numbers WHERE number = ?1")
                .bind(n.number.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(owner) = owner.map(ContactId)
            && Some(owner) != own
        {
            return Err(PhonebookError::NumberInUse {
                number: n.number.clone(),
                owner,
            });
        }
    }
    Ok(())
}

async fn insert_entry(
    conn: &mut SqliteConnection,
    contact: &Contact,
) -> Result<ContactId, PhonebookError> {
    // The database clock stamps the row, as for rooms.
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO phonebook_entries (name, company, created_at, updated_at) \
         VALUES (?1, ?2, unixepoch(), unixepoch()) RETURNING id",
    )
    .bind(contact.name())
    .bind(contact.company())
    .fetch_one(&mut *conn)
    .await?;
    let id = ContactId(id);
    insert_numbers(conn, id, contact.numbers()).await?;
    Ok(id)
}

async fn replace_numbers(
    conn: &mut SqliteConnection,
    id: ContactId,
    contact: &Contact,
) -> Result<(), PhonebookError> {
    sqlx::query("DELETE FROM phonebook_numbers WHERE entry_id = ?1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    insert_numbers(conn, id, contact.numbers()).await
}

async fn insert_numbers(
    conn: &mut SqliteConnection,
    id: ContactId,
    numbers: &[ContactNumber],
) -> Result<(), PhonebookError> {
    for (position, n) in numbers.iter().enumerate() {
        sqlx::query(
            "INSERT INTO phonebook_numbers (entry_id, position, label, number) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(id.0)
        .bind(position as i64)
        .bind(n.label.as_str())
        .bind(n.number.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Every entry, sorted by folded name.
async fn load_all(conn: &mut SqliteConnection) -> Result<Vec<PhonebookEntry>, PhonebookError> {
    let mut entries = load(conn, None).await?;
    entries.sort_by_cached_key(|e| (e.contact.sort_key(), e.id));
    Ok(entries)
}

/// The entries (all, or the one with `only`) with their numbers, by id.
async fn load(
    conn: &mut SqliteConnection,
    only: Option<ContactId>,
) -> Result<Vec<PhonebookEntry>, PhonebookError> {
    let rows = sqlx::query(
        "SELECT e.id, e.name, e.company, n.label, n.number \
         FROM phonebook_entries e JOIN phonebook_numbers n ON n.entry_id = e.id \
         WHERE ?1 IS NULL OR e.id = ?1 \
         ORDER BY e.id, n.position",
    )
    .bind(only.map(|id| id.0))
    .fetch_all(&mut *conn)
    .await?;

    let mut grouped: BTreeMap<i64, (String, Option<String>, Vec<ContactNumber>)> = BTreeMap::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let label: String = row.try_get("label")?;
        let number: String = row.try_get("number")?;
        let number =
            PhoneNumber::from_e164(&number).map_err(|source| PhonebookError::BadStoredNumber {
                entry: ContactId(id),
                source,
            })?;
        // The CHECK constraint keeps labels to the four names; anything else reads as other.
        let label = label.parse().unwrap_or(phonebook::NumberLabel::Other);
        let slot = match grouped.entry(id) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert((row.try_get("name")?, row.try_get("company")?, Vec::new()))
            }
        };
        slot.2.push(ContactNumber { label, number });
    }
    grouped
        .into_iter()
        .map(|(id, (name, company, numbers))| {
            let id = ContactId(id);
            Contact::new(&name, company.as_deref(), numbers)
                .map(|contact| PhonebookEntry { id, contact })
                .map_err(|source| PhonebookError::BadStoredEntry { entry: id, source })
        })
        .collect()
}
