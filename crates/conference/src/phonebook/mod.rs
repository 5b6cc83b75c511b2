//! The phone book: contacts with names, companies and labelled E.164 numbers; importing
//! them from CSV and vCard exports; merging duplicates; finding them by name or number.
//!
//! All of it is pure: bytes in, contacts out. The store keeps contacts and runs an import
//! as one transaction (read the book, [`plan_merge`], write the plan).
//!
//! ```
//! # use konferenz_conference::phonebook::*;
//! let file = b"Vorname;Nachname;Firma;Mobiltelefon\nAnna;M\xfcller;ACME;0791234567\n";
//! let import = import(file, Format::Csv, "CH").unwrap();
//! assert!(import.rejected.is_empty());
//! let plan = plan_merge(&[], import.contacts);
//! let found = search("mül", &plan.added);
//! assert_eq!(found[0].contact.name(), "Müller, Anna");
//! assert_eq!(found[0].contact.numbers()[0].number.as_str(), "+41791234567");
//! ```

mod contact;
mod csv_file;
mod import;
mod number;
mod search;
mod vcard;

pub use contact::{
    Contact, ContactError, ContactId, ContactNumber, MAX_NAME_CHARS, MergePlan, plan_merge,
};
pub use import::{Format, Import, ImportError, RejectReason, Rejected, import};
pub use number::{LabelError, NumberError, NumberLabel, PhoneNumber, parse_region};
pub use search::{Match, MatchedBy, search};
