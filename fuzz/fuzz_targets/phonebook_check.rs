//! What every phone-book import must give, shared by `phonebook_vcard` and `phonebook_csv`
//! (not a target of its own): contacts with a name and callable E.164 numbers, and
//! rejections with a 1-based line and a message.

use konferenz_conference::PhoneNumber;
use konferenz_conference::phonebook::{Import, ImportError, MAX_NAME_CHARS};

pub fn check(result: Result<Import, ImportError>) {
    let import = match result {
        Ok(import) => import,
        Err(error) => {
            assert!(!error.to_string().is_empty());
            return;
        }
    };
    for contact in &import.contacts {
        assert!(!contact.name().trim().is_empty(), "{contact:?}");
        assert!(
            contact.name().chars().count() <= MAX_NAME_CHARS,
            "{contact:?}"
        );
        assert!(!contact.numbers().is_empty(), "{contact:?}");
        for n in contact.numbers() {
            assert_eq!(
                PhoneNumber::from_e164(n.number.as_str()).as_ref(),
                Ok(&n.number)
            );
        }
    }
    for rejected in &import.rejected {
        assert!(rejected.line >= 1, "{rejected:?}");
        assert!(!rejected.to_string().is_empty());
    }
}
