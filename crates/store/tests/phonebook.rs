//! The phone book against a real SQLite file in a temp directory.

use konferenz_conference::phonebook::{
    Contact, ContactId, ContactNumber, MatchedBy, NumberLabel, PhoneNumber,
};
use konferenz_store::{ImportOutcome, PhonebookError, Store};
use tempfile::TempDir;

fn contact(name: &str, company: Option<&str>, numbers: &[(NumberLabel, &str)]) -> Contact {
    let numbers = numbers.iter().map(|(label, n)| ContactNumber {
        label: *label,
        number: PhoneNumber::parse(n, "CH").unwrap(),
    });
    Contact::new(name, company, numbers).unwrap()
}

async fn open(dir: &TempDir) -> Store {
    Store::open(&format!(
        "sqlite://{}/data/konferenz.db",
        dir.path().display()
    ))
    .await
    .unwrap()
}

use NumberLabel::{Home, Mobile, Work};

#[tokio::test]
async fn entries_are_added_listed_updated_and_removed() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    assert!(store.list_phonebook().await.unwrap().is_empty());

    let anna = contact(
        "Müller, Anna",
        Some("ACME"),
        &[(Work, "044 123 45 67"), (Mobile, "079 123 45 67")],
    );
    let added = store.add_phonebook_entry(&anna).await.unwrap();
    assert_eq!(added.contact, anna);
    let otto = store
        .add_phonebook_entry(&contact("Öhler, Otto", None, &[(Home, "044 999 88 77")]))
        .await
        .unwrap();
    let bert = store
        .add_phonebook_entry(&contact("Meier, Bert", None, &[(Home, "044 555 66 77")]))
        .await
        .unwrap();

    // By name with accents folded: Meier, Müller, Öhler.
    let names: Vec<String> = store
        .list_phonebook()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.contact.name().to_owned())
        .collect();
    assert_eq!(names, ["Meier, Bert", "Müller, Anna", "Öhler, Otto"]);

    let got = store.phonebook_entry(added.id).await.unwrap().unwrap();
    assert_eq!(got, added, "numbers keep their order and labels");

    let changed = contact("Müller-Frei, Anna", None, &[(Mobile, "079 123 45 67")]);
    store
        .update_phonebook_entry(added.id, &changed)
        .await
        .unwrap();
    let got = store.phonebook_entry(added.id).await.unwrap().unwrap();
    assert_eq!(got.contact, changed);

    store.remove_phonebook_entry(otto.id).await.unwrap();
    assert_eq!(store.phonebook_entry(otto.id).await.unwrap(), None);
    assert!(matches!(
        store.remove_phonebook_entry(otto.id).await.unwrap_err(),
        PhonebookError::NoSuchEntry(id) if id == otto.id
    ));
    assert_eq!(store.list_phonebook().await.unwrap().len(), 2);
    assert_eq!(
        store.phonebook_entry(bert.id).await.unwrap().unwrap().id,
        bert.id
    );
}

#[tokio::test]
async fn a_number_belongs_to_one_entry() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let anna = store
        .add_phonebook_entry(&contact("Anna", None, &[(Work, "044 123 45 67")]))
        .await
        .unwrap();
    let err = store
        .add_phonebook_entry(&contact(
            "Impostor",
            None,
            &[(Home, "044 000 00 00"), (Work, "+41 44 123 45 67")],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PhonebookError::NumberInUse { owner, .. } if *owner == anna.id),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("entry {} already has the number +41441234567", anna.id)
    );
    assert_eq!(
        store.list_phonebook().await.unwrap().len(),
        1,
        "nothing half-written"
    );

    // Updating an entry with its own numbers is fine; with someone else's it is not.
    let bert = store
        .add_phonebook_entry(&contact("Bert", None, &[(Work, "044 765 43 21")]))
        .await
        .unwrap();
    store
        .update_phonebook_entry(
            anna.id,
            &contact("Anna B.", None, &[(Work, "044 123 45 67")]),
        )
        .await
        .unwrap();
    let err = store
        .update_phonebook_entry(bert.id, &contact("Bert", None, &[(Work, "044 123 45 67")]))
        .await
        .unwrap_err();
    assert!(matches!(err, PhonebookError::NumberInUse { .. }), "{err:?}");
    assert!(matches!(
        store
            .update_phonebook_entry(
                ContactId(999),
                &contact("X", None, &[(Work, "044 111 11 11")])
            )
            .await
            .unwrap_err(),
        PhonebookError::NoSuchEntry(ContactId(999))
    ));
}

#[tokio::test]
async fn import_merges_with_the_book_and_itself() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    let anna = store
        .add_phonebook_entry(&contact("Müller, Anna", None, &[(Work, "044 123 45 67")]))
        .await
        .unwrap();

    let batch = vec![
        contact("Anna Müller", Some("ACME"), &[(Mobile, "079 123 45 67")]),
        contact("Peter Meier", None, &[(Mobile, "076 555 44 33")]),
        contact(
            "P. Meier",
            None,
            &[(Work, "076 555 44 33"), (Home, "044 222 33 44")],
        ),
    ];
    let outcome = store.import_phonebook(batch.clone()).await.unwrap();
    assert_eq!(
        outcome,
        ImportOutcome {
            added: 1,
            merged: 2,
            updated: 1
        }
    );
    let anna = store.phonebook_entry(anna.id).await.unwrap().unwrap();
    assert_eq!(anna.contact.company(), Some("ACME"));
    assert_eq!(anna.contact.numbers().len(), 2);
    let book = store.list_phonebook().await.unwrap();
    assert_eq!(book.len(), 2);
    assert_eq!(book[1].contact.name(), "Peter Meier");
    assert_eq!(book[1].contact.numbers().len(), 2);

    // The same file again changes nothing.
    let again = store.import_phonebook(batch).await.unwrap();
    assert_eq!(
        again,
        ImportOutcome {
            added: 0,
            merged: 3,
            updated: 0
        }
    );
    assert_eq!(store.list_phonebook().await.unwrap(), book);
}

#[tokio::test]
async fn search_finds_by_name_prefix_and_number() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir).await;
    store
        .add_phonebook_entry(&contact("Müller, Anna", None, &[(Work, "044 123 45 67")]))
        .await
        .unwrap();
    store
        .add_phonebook_entry(&contact("Anna Schmid", None, &[(Mobile, "079 765 43 21")]))
        .await
        .unwrap();

    let hits = store.search_phonebook("mül").await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].entry.contact.name(), "Müller, Anna");
    assert_eq!(hits[0].matched_by, MatchedBy::Name);

    let hits = store.search_phonebook("anna").await.unwrap();
    let names: Vec<&str> = hits.iter().map(|h| h.entry.contact.name()).collect();
    assert_eq!(names, ["Anna Schmid", "Müller, Anna"]);

    let hits = store.search_phonebook("079 76").await.unwrap();
    assert_eq!(hits[0].entry.contact.name(), "Anna Schmid");
    assert_eq!(hits[0].matched_by, MatchedBy::Number);

    assert!(store.search_phonebook("zzz").await.unwrap().is_empty());
}

#[tokio::test]
async fn the_book_survives_reopening() {
    let dir = TempDir::new().unwrap();
    let id = {
        let store = open(&dir).await;
        store
            .add_phonebook_entry(&contact("Anna", Some("ACME"), &[(Work, "044 123 45 67")]))
            .await
            .unwrap()
            .id
    };
    let store = open(&dir).await;
    let entry = store.phonebook_entry(id).await.unwrap().unwrap();
    assert_eq!(entry.contact.company(), Some("ACME"));
    assert_eq!(entry.contact.numbers()[0].number.as_str(), "+41441234567");
    assert_eq!(entry.contact.numbers()[0].label, Work);
}
