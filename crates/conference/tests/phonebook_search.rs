//! Phone numbers to E.164, finding contacts by name and number, and merging duplicates.

use konferenz_conference::phonebook::*;

fn e164(text: &str, region: &str) -> String {
    PhoneNumber::parse(text, region)
        .unwrap_or_else(|e| panic!("{text:?} in {region}: {e}"))
        .to_string()
}

fn contact(name: &str, company: Option<&str>, numbers: &[(&str, &str)]) -> Contact {
    let numbers = numbers.iter().map(|(label, n)| ContactNumber {
        label: label.parse().unwrap(),
        number: PhoneNumber::parse(n, "CH").unwrap(),
    });
    Contact::new(name, company, numbers).unwrap()
}

fn book() -> Vec<Contact> {
    vec![
        contact(
            "Müller, Anna",
            Some("ACME AG"),
            &[("work", "044 123 45 67")],
        ),
        contact("Anna Schmid", None, &[("mobile", "079 765 43 21")]),
        contact("Mullis, Kary", None, &[("home", "+1 212 555 0100")]),
        contact(
            "Zentrale",
            Some("Müller & Söhne"),
            &[("other", "+49 30 1234567")],
        ),
        contact("Øster, Björn", None, &[("work", "+45 20 12 34 56")]),
    ]
}

fn found(query: &str, book: &[Contact]) -> Vec<String> {
    search(query, book)
        .iter()
        .map(|m| m.contact.name().to_owned())
        .collect()
}

#[test]
fn national_numbers_become_e164() {
    assert_eq!(e164("030 1234567", "DE"), "+49301234567");
    assert_eq!(e164("+49 (0)30 123 45 67", "DE"), "+49301234567");
    assert_eq!(e164("0049 30 1234567", "DE"), "+49301234567");
    assert_eq!(e164("0171/2345678", "DE"), "+491712345678");
    assert_eq!(e164("044 123 45 67", "CH"), "+41441234567");
    assert_eq!(e164("079-123.45.67", "ch"), "+41791234567");
    assert_eq!(e164("+41 44 123 45 67", "DE"), "+41441234567");
    assert_eq!(e164("00 41 44 123 45 67", "DE"), "+41441234567");
}

#[test]
fn junk_numbers_are_rejected_with_a_reason() {
    assert_eq!(PhoneNumber::parse("  - ", "DE"), Err(NumberError::Empty));
    assert_eq!(
        PhoneNumber::parse("call me", "DE").unwrap_err().to_string(),
        "\"call me\" is not a phone number"
    );
    assert_eq!(
        PhoneNumber::parse("0800-FLOWERS", "DE").unwrap_err(),
        NumberError::NotANumber("0800-FLOWERS".into())
    );
    let err = PhoneNumber::parse("12", "DE").unwrap_err();
    assert!(matches!(err, NumberError::Invalid { .. }), "{err:?}");
    let err = PhoneNumber::parse("+49 30 123456789012345", "DE").unwrap_err();
    assert!(matches!(err, NumberError::Invalid { .. }), "{err:?}");
    assert_eq!(
        PhoneNumber::parse("030 1234567", "Germany").unwrap_err(),
        NumberError::UnknownRegion("Germany".into())
    );
}

#[test]
fn labels_read_common_names() {
    assert_eq!("Mobile".parse(), Ok(NumberLabel::Mobile));
    assert!("fax".parse::<NumberLabel>().is_err());
    assert_eq!(NumberLabel::lenient("Handy"), NumberLabel::Mobile);
    assert_eq!(NumberLabel::lenient("Geschäftlich"), NumberLabel::Work);
    assert_eq!(NumberLabel::lenient("Privat"), NumberLabel::Home);
    assert_eq!(NumberLabel::lenient("* My Contacts"), NumberLabel::Other);
}

#[test]
fn contacts_need_a_name_and_a_number() {
    let n = || ContactNumber {
        label: NumberLabel::Work,
        number: PhoneNumber::parse("+41441234567", "CH").unwrap(),
    };
    assert_eq!(
        Contact::new("  ", None, [n()]).unwrap_err(),
        ContactError::NoName
    );
    assert_eq!(
        Contact::new("Anna", None, []).unwrap_err(),
        ContactError::NoNumber
    );
    let twice = Contact::new(" Anna ", Some(" "), [n(), n()]).unwrap();
    assert_eq!(twice.name(), "Anna");
    assert_eq!(twice.company(), None);
    assert_eq!(twice.numbers().len(), 1);
}

#[test]
fn prefix_with_umlaut_finds_the_name() {
    // Accent-insensitive, but the spelling as typed ranks first.
    assert_eq!(
        found("mül", &book()),
        ["Müller, Anna", "Mullis, Kary", "Zentrale"]
    );
}

#[test]
fn search_ignores_case_and_accents() {
    let book = book();
    assert_eq!(
        found("MUL", &book),
        ["Mullis, Kary", "Müller, Anna", "Zentrale"]
    );
    assert_eq!(found("oster", &book), ["Øster, Björn"]);
    assert_eq!(found("bjorn", &book), ["Øster, Björn"]);
}

#[test]
fn german_spelling_of_umlauts_finds_them() {
    assert_eq!(found("mueller", &book()), ["Müller, Anna", "Zentrale"]);
}

#[test]
fn first_name_and_several_words_match() {
    let book = book();
    assert_eq!(found("anna", &book), ["Müller, Anna", "Anna Schmid"]);
    assert_eq!(found("anna mü", &book), ["Müller, Anna"]);
    assert_eq!(found("Anna Müller", &book), ["Müller, Anna"]);
    assert!(found("nna", &book).is_empty(), "only word starts match");
}

#[test]
fn whole_words_and_names_rank_above_prefixes_and_companies() {
    let book = book();
    let matches = search("müller", &book);
    assert_eq!(matches[0].contact.name(), "Müller, Anna");
    assert_eq!(matches[0].matched_by, MatchedBy::Name);
    assert_eq!(matches[1].contact.name(), "Zentrale");
    assert_eq!(matches[1].matched_by, MatchedBy::Company);
    assert_eq!(matches[1].index, 3);
}

#[test]
fn number_prefix_finds_by_number() {
    let book = book();
    assert_eq!(found("+41 44", &book), ["Müller, Anna"]);
    assert_eq!(found("044 123", &book), ["Müller, Anna"]);
    assert_eq!(found("0041 79", &book), ["Anna Schmid"]);
    assert_eq!(found("030", &book), ["Zentrale"]);
    let exact = search("+41 79 765 43 21", &book);
    assert_eq!(exact[0].matched_by, MatchedBy::Number);
    assert!(found("0999", &book).is_empty());
}

#[test]
fn empty_query_finds_nothing() {
    assert!(search("  ,", &book()).is_empty());
}

#[test]
fn same_number_merges_into_one_entry() {
    let existing = vec![(
        ContactId(7),
        contact("Müller, Anna", None, &[("work", "044 123 45 67")]),
    )];
    let incoming = vec![
        contact(
            "A. Müller",
            Some("ACME"),
            &[("work", "+41 44 123 45 67"), ("mobile", "079 123 45 67")],
        ),
        contact("Peter Meier", None, &[("mobile", "076 555 44 33")]),
    ];
    let plan = plan_merge(&existing, incoming);
    assert_eq!(plan.merged, 1);
    assert_eq!(plan.added.len(), 1);
    assert_eq!(plan.added[0].name(), "Peter Meier");
    let (id, anna) = &plan.changed[0];
    assert_eq!(*id, ContactId(7));
    assert_eq!(anna.name(), "Müller, Anna", "the stored name stays");
    assert_eq!(
        anna.company(),
        Some("ACME"),
        "a missing company is filled in"
    );
    let numbers: Vec<&str> = anna.numbers().iter().map(|n| n.number.as_str()).collect();
    assert_eq!(numbers, ["+41441234567", "+41791234567"]);
}

#[test]
fn same_name_with_other_numbers_becomes_one_entry_with_both() {
    let incoming = vec![
        contact("Müller, Anna", None, &[("work", "044 123 45 67")]),
        contact("Anna Müller", None, &[("mobile", "079 123 45 67")]),
        contact("anna MULLER", None, &[("home", "044 999 88 77")]),
    ];
    let plan = plan_merge(&[], incoming);
    assert_eq!(plan.merged, 2);
    assert_eq!(plan.added.len(), 1);
    let labels: Vec<String> = plan.added[0]
        .numbers()
        .iter()
        .map(|n| format!("{}={}", n.label, n.number))
        .collect();
    assert_eq!(
        labels,
        [
            "work=+41441234567",
            "mobile=+41791234567",
            "home=+41449998877"
        ]
    );
}

#[test]
fn reimporting_the_same_contacts_changes_nothing() {
    let existing: Vec<(ContactId, Contact)> = book()
        .into_iter()
        .enumerate()
        .map(|(i, c)| (ContactId(i as i64 + 1), c))
        .collect();
    let plan = plan_merge(&existing, book());
    assert_eq!(plan.merged, 5);
    assert!(plan.added.is_empty());
    assert!(plan.changed.is_empty());
}

#[test]
fn a_number_stays_with_the_entry_that_has_it() {
    let existing = vec![
        (
            ContactId(1),
            contact("Anna", None, &[("work", "044 123 45 67")]),
        ),
        (
            ContactId(2),
            contact("Bert", None, &[("work", "044 765 43 21")]),
        ),
    ];
    // Claims both numbers: joins Anna (first number), Bert keeps his.
    let plan = plan_merge(
        &existing,
        [contact(
            "Anna",
            None,
            &[("work", "044 123 45 67"), ("home", "044 765 43 21")],
        )],
    );
    assert_eq!(plan.merged, 1);
    assert!(plan.changed.is_empty(), "{:?}", plan.changed);
}
