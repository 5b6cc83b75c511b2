//! [`Contact`]: one phone-book entry (a person or a company line) and how two of them merge.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use super::number::{NumberLabel, PhoneNumber};
use super::search::fold_words;

/// The longest name or company accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The database id of a stored contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactId(pub i64);

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ContactId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse().map(ContactId)
    }
}

/// One number of a contact with its label.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContactNumber {
    /// Work, mobile, home or other.
    pub label: NumberLabel,
    /// The number, E.164.
    pub number: PhoneNumber,
}

/// A phone-book entry: a name, an optional company and at least one number.
///
/// Names keep the form they were given in ("Müller, Anna" or "Anna Müller"); search and
/// merging compare them word by word, so both forms find and merge with each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    name: String,
    company: Option<String>,
    numbers: Vec<ContactNumber>,
}

/// Why a [`Contact`] cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// The name is empty or only spaces.
    #[error("the name is empty")]
    NoName,
    /// The name or company is longer than [`MAX_NAME_CHARS`].
    #[error("{field} is longer than {MAX_NAME_CHARS} characters")]
    TooLong {
        /// `name` or `company`.
        field: &'static str,
    },
    /// The contact has no number to call.
    #[error("no phone number")]
    NoNumber,
}

impl Contact {
    /// A contact; blanks around the name and company are trimmed, an empty company is none,
    /// and a number given twice is kept once (with its first label).
    pub fn new(
        name: &str,
        company: Option<&str>,
        numbers: impl IntoIterator<Item = ContactNumber>,
    ) -> Result<Contact, ContactError> {
        let name = clean(name, "name")?.ok_or(ContactError::NoName)?;
        let company = match company {
            Some(c) => clean(c, "company")?,
            None => None,
        };
        let mut contact = Contact {
            name,
            company,
            numbers: Vec::new(),
        };
        for n in numbers {
            contact.add_number(n);
        }
        if contact.numbers.is_empty() {
            return Err(ContactError::NoNumber);
        }
        Ok(contact)
    }

    /// The name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The company, if any.
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The numbers, in the order they were added; never empty.
    pub fn numbers(&self) -> &[ContactNumber] {
        &self.numbers
    }

    /// Whether this contact has the number (whatever its label).
    pub fn has_number(&self, number: &PhoneNumber) -> bool {
        self.numbers.iter().any(|n| n.number == *number)
    }

    /// Adds a number unless the contact has it already; true if it was added.
    pub fn add_number(&mut self, number: ContactNumber) -> bool {
        if self.has_number(&number.number) {
            return false;
        }
        self.numbers.push(number);
        true
    }

    /// The order of a listing: the name, case and accents ignored ("Öz" sorts with "Oz").
    pub fn sort_key(&self) -> String {
        super::search::fold(&self.name)
    }

    /// The name's words, folded and sorted: "Müller, Anna" and "Anna Mueller" differ
    /// but "Anna Müller" and "Müller, Anna" are the same person.
    pub(crate) fn name_key(&self) -> Vec<String> {
        let mut words = fold_words(&self.name);
        words.sort();
        words
    }
}

/// Trims; None if empty; refuses overlong text.
fn clean(text: &str, field: &'static str) -> Result<Option<String>, ContactError> {
    let text = text.trim();
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(ContactError::TooLong { field });
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// What an import does to the phone book: contacts to add, stored ones that gain numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergePlan {
    /// New contacts, in the order they first appeared.
    pub added: Vec<Contact>,
    /// Stored contacts that gained numbers or a company, with their new content.
    pub changed: Vec<(ContactId, Contact)>,
    /// How many incoming contacts were folded into another one (stored or earlier in the
    /// batch) instead of being added.
    pub merged: usize,
}

/// Merges `incoming` into the phone book `existing`.
///
/// An incoming contact joins the entry that has one of its numbers, or else the entry with
/// the same name (word for word, accents and order ignored); then it gains the numbers it
/// lacked and, if it had none, the company. A number that another entry already has stays
/// with that entry, so no number is ever in the book twice.
pub fn plan_merge(
    existing: &[(ContactId, Contact)],
    incoming: impl IntoIterator<Item = Contact>,
) -> MergePlan {
    let mut book = Book::default();
    for (id, contact) in existing {
        book.insert(Some(*id), contact.clone(), false);
    }
    let mut merged = 0;
    for contact in incoming {
        match book.find(&contact) {
            Some(slot) => {
                merged += 1;
                book.merge_into(slot, contact);
            }
            None => book.insert(None, contact, true),
        }
    }

    let mut plan = MergePlan {
        merged,
        ..MergePlan::default()
    };
    for slot in book.slots {
        match slot.id {
            None => plan.added.push(slot.contact),
            Some(id) if slot.changed => plan.changed.push((id, slot.contact)),
            Some(_) => {}
        }
    }
    plan
}

/// The phone book while a merge is planned, indexed by number and by name.
#[derive(Default)]
struct Book {
    slots: Vec<Slot>,
    by_number: HashMap<PhoneNumber, usize>,
    by_name: HashMap<Vec<String>, usize>,
}

struct Slot {
    id: Option<ContactId>,
    contact: Contact,
    changed: bool,
}

impl Book {
    fn insert(&mut self, id: Option<ContactId>, contact: Contact, changed: bool) {
        let slot = self.slots.len();
        for n in &contact.numbers {
            self.by_number.entry(n.number.clone()).or_insert(slot);
        }
        let key = contact.name_key();
        if !key.is_empty() {
            self.by_name.entry(key).or_insert(slot);
        }
        self.slots.push(Slot {
            id,
            contact,
            changed,
        });
    }

    /// The entry with one of the contact's numbers, else the one with its name.
    fn find(&self, contact: &Contact) -> Option<usize> {
        contact
            .numbers
            .iter()
            .find_map(|n| self.by_number.get(&n.number).copied())
            .or_else(|| self.by_name.get(&contact.name_key()).copied())
    }

    fn merge_into(&mut self, slot: usize, contact: Contact) {
        let target = &mut self.slots[slot];
        for n in contact.numbers {
            if self.by_number.contains_key(&n.number) {
                continue;
            }
            self.by_number.insert(n.number.clone(), slot);
            target.contact.numbers.push(n);
            target.changed = true;
        }
        if target.contact.company.is_none() && contact.company.is_some() {
            target.contact.company = contact.company;
            target.changed = true;
        }
    }
}
