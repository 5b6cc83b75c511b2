//! Importing real-world-shaped address-book exports: Apple vCard 3.0, Outlook vCard 2.1,
//! vCard 4.0, Outlook (German) and Google CSV. Every good record is kept; every bad one is
//! reported with its line.

use konferenz_conference::phonebook::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/phonebook/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str, region: &str) -> Import {
    let bytes = fixture(name);
    import(&bytes, Format::detect(Some(name), &bytes), region).unwrap()
}

/// `label=number` for each number of the contact named `name`.
fn numbers_of(import: &Import, name: &str) -> Vec<String> {
    let contact = import
        .contacts
        .iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("no {name:?} in {:#?}", import.contacts));
    contact
        .numbers()
        .iter()
        .map(|n| format!("{}={}", n.label, n.number))
        .collect()
}

fn names(import: &Import) -> Vec<&str> {
    import.contacts.iter().map(Contact::name).collect()
}

fn rejected(import: &Import) -> Vec<String> {
    import.rejected.iter().map(ToString::to_string).collect()
}

#[test]
fn apple_vcard_3_unfolds_lines_and_reads_type_params() {
    let import = read("apple_ios_3.0.vcf", "CH");
    assert_eq!(
        names(&import),
        [
            "Müller, Anna",
            "Zentrale Hotline",
            "Lüdenscheidt-Øster, Jürgen"
        ]
    );
    assert!(import.rejected.is_empty(), "{:?}", rejected(&import));
    // The work number is folded in the middle; the group number after a trailing space.
    assert_eq!(
        numbers_of(&import, "Müller, Anna"),
        [
            "mobile=+41791234567",
            "work=+41441234567",
            "other=+493012345678"
        ]
    );
    assert_eq!(import.contacts[0].company(), Some("Müller & Söhne AG"));
    // A company card (empty N) is named by FN.
    assert_eq!(
        numbers_of(&import, "Zentrale Hotline"),
        ["other=+49899876543"]
    );
    assert_eq!(import.contacts[1].company(), Some("Beispiel GmbH"));
    // The fax number is not imported: nobody answers it.
    assert_eq!(
        numbers_of(&import, "Lüdenscheidt-Øster, Jürgen"),
        ["home=+49221471100"]
    );
}

#[test]
fn outlook_vcard_2_1_decodes_quoted_printable_in_its_charset() {
    let import = read("outlook_2.1.vcf", "DE");
    assert_eq!(
        names(&import),
        ["Grüßer, Jörg", "Öztürk, Ayşe", "Straßer, Klaus"]
    );
    assert_eq!(
        import.contacts[0].company(),
        Some("Bäckerei Grüßer & Co. KG")
    );
    assert_eq!(
        numbers_of(&import, "Grüßer, Jörg"),
        ["work=+49711123456", "mobile=+491712345678"]
    );
    assert_eq!(numbers_of(&import, "Öztürk, Ayşe"), ["home=+49309876543"]);
    assert_eq!(numbers_of(&import, "Straßer, Klaus"), ["work=+4989123456"]);
    assert_eq!(
        rejected(&import),
        ["line 16: Öztürk, Ayşe: \"kein Anschluss\" is not a phone number"]
    );
}

#[test]
fn broken_cards_and_stray_lines_do_not_lose_the_rest() {
    let import = read("google_4.0.vcf", "DE");
    assert_eq!(
        names(&import),
        ["Dubois, Sophie", "Meier, Peter", "Müller, Anna"]
    );
    assert_eq!(import.contacts[0].company(), Some("Société Générale"));
    // tel: URIs, quoted TYPE lists and an extension parameter.
    assert_eq!(
        numbers_of(&import, "Dubois, Sophie"),
        ["mobile=+33612345678", "work=+33142142000"]
    );
    assert_eq!(numbers_of(&import, "Meier, Peter"), ["mobile=+41765554433"]);
    assert_eq!(
        rejected(&import),
        [
            "line 9: card has no END:VCARD",
            "line 13: Meier, Peter: \"12\" is not a valid phone number (no such number in the numbering plan)",
            "line 20: text outside BEGIN:VCARD … END:VCARD",
            "line 22: Person, No Number: no valid phone number",
        ]
    );
}

#[test]
fn outlook_csv_with_semicolons_quotes_and_a_broken_line() {
    let import = read("outlook_de.csv", "DE");
    assert_eq!(
        names(&import),
        [
            "Müller, Anna",
            "Größer, Jörg Peter",
            "Hotline \"24/7\" GmbH",
            "Schmidt, Lena"
        ]
    );
    // Embedded semicolon in a quoted field; the fax column is ignored.
    assert_eq!(import.contacts[0].company(), Some("Müller & Söhne; Zürich"));
    assert_eq!(
        numbers_of(&import, "Müller, Anna"),
        ["work=+41441234567", "mobile=+41791234567"]
    );
    assert_eq!(
        numbers_of(&import, "Größer, Jörg Peter"),
        ["work=+49711123456"]
    );
    assert_eq!(
        numbers_of(&import, "Hotline \"24/7\" GmbH"),
        ["work=+498001234567"]
    );
    assert_eq!(
        numbers_of(&import, "Schmidt, Lena"),
        ["home=+49407654321", "mobile=+4915123456789"]
    );
    // Line numbers count the newline inside Anna's quoted note.
    assert_eq!(
        rejected(&import),
        [
            "line 5: Mustermann, Max: 17 fields but the header has 15",
            "line 7: Ohne, Eva: no valid phone number",
            "line 8: Junk, Tom: \"12\" is not a valid phone number (no such number in the numbering plan)",
            "line 8: Junk, Tom: \"abc\" is not a phone number",
            "line 8: Junk, Tom: no valid phone number",
        ]
    );
}

#[test]
fn google_csv_pairs_labels_with_values_and_splits_cells() {
    let import = read("google.csv", "CH");
    assert!(import.rejected.is_empty(), "{:?}", rejected(&import));
    assert_eq!(
        numbers_of(&import, "Sophie Dubois"),
        ["mobile=+33612345678", "work=+33142142000"]
    );
    assert_eq!(
        numbers_of(&import, "Meier, Peter"),
        ["mobile=+41765554433", "mobile=+41799998877"]
    );
}

#[test]
fn format_is_detected_by_extension_or_content() {
    assert_eq!(Format::detect(Some("a.VCF"), b""), Format::VCard);
    assert_eq!(Format::detect(Some("a.csv"), b"BEGIN:VCARD"), Format::Csv);
    assert_eq!(
        Format::detect(Some("export"), b"\xef\xbb\xbf\r\nbegin:vcard\r\n"),
        Format::VCard
    );
    assert_eq!(Format::detect(None, b"Name;Telefon\n"), Format::Csv);
}

#[test]
fn csv_without_usable_columns_is_refused_whole() {
    let err = import(b"E-Mail;Notes\nx@y;z\n", Format::Csv, "DE").unwrap_err();
    assert_eq!(err, ImportError::MissingColumn("name"));
    assert!(err.to_string().contains("Vorname"), "{err}");
    let err = import(b"Name;E-Mail\nAnna;x@y\n", Format::Csv, "DE").unwrap_err();
    assert_eq!(err, ImportError::MissingColumn("phone"));
    assert_eq!(
        import(b"", Format::Csv, "DE").unwrap_err(),
        ImportError::Empty
    );
    assert!(matches!(
        import(b"Name;Phone\n", Format::Csv, "XX").unwrap_err(),
        ImportError::Region(NumberError::UnknownRegion(_))
    ));
}

#[test]
fn utf16_csv_from_outlook_unicode_export_is_read() {
    let text = "Name\tMobile Phone\r\nZoë Ærø\t+45 20 12 34 56\r\n";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let import = import(&bytes, Format::Csv, "DK").unwrap();
    assert_eq!(numbers_of(&import, "Zoë Ærø"), ["mobile=+4520123456"]);
}
