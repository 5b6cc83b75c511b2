//! `konferenz phonebook ...`: add, list, show, update, remove, search and import contacts.
//!
//! Numbers are printed here because the user asked for them; they stay out of the logs
//! (the store logs entry ids only).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use konferenz_conference::phonebook::{
    self, Contact, ContactId, ContactNumber, Format, NumberLabel, PhoneNumber,
};
use konferenz_store::{PhonebookEntry, Store};

/// `konferenz phonebook ...`
#[derive(Debug, Subcommand)]
pub enum PhonebookCommand {
    /// Add a contact.
    Add {
        /// The name, e.g. "Müller, Anna".
        #[arg(long)]
        name: String,
        /// The company.
        #[arg(long)]
        company: Option<String>,
        /// A number as LABEL=NUMBER (label: work, mobile, home, other), or just NUMBER;
        /// repeat for several.
        #[arg(long = "number", value_name = "LABEL=NUMBER", required = true, value_parser = parse_labelled)]
        numbers: Vec<(NumberLabel, String)>,
        /// Country of numbers without a country code (ISO code: DE, CH, AT ...).
        #[arg(long, value_name = "CC")]
        region: Option<String>,
    },
    /// List all contacts.
    #[command(alias = "ls")]
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one contact.
    Show {
        /// The contact's id (from list or search).
        id: ContactId,
    },
    /// Change a contact: the options given replace what is stored.
    Update {
        /// The contact's id.
        id: ContactId,
        /// The new name.
        #[arg(long)]
        name: Option<String>,
        /// The new company.
        #[arg(long, conflicts_with = "no_company")]
        company: Option<String>,
        /// Remove the company.
        #[arg(long)]
        no_company: bool,
        /// The new numbers (all of them), as for add.
        #[arg(long = "number", value_name = "LABEL=NUMBER", value_parser = parse_labelled)]
        numbers: Vec<(NumberLabel, String)>,
        /// Country of numbers without a country code.
        #[arg(long, value_name = "CC")]
        region: Option<String>,
    },
    /// Delete a contact.
    #[command(alias = "rm")]
    Remove {
        /// The contact's id.
        id: ContactId,
    },
    /// Find contacts by name, company or the start of a number.
    Search {
        /// E.g. "mül", "anna", "+41 44".
        query: String,
    },
    /// Import a CSV or vCard file; duplicates are merged into existing contacts.
    Import {
        /// The file (.vcf or .csv; otherwise recognised by its content).
        file: PathBuf,
        /// Country of numbers without a country code.
        #[arg(long, value_name = "CC")]
        region: Option<String>,
    },
}

/// `work=+41 44 …` → (Work, "+41 44 …"); a bare number is labelled other.
fn parse_labelled(text: &str) -> Result<(NumberLabel, String), String> {
    match text.split_once('=') {
        Some((label, number)) => Ok((
            label
                .parse()
                .map_err(|e: phonebook::LabelError| e.to_string())?,
            number.to_owned(),
        )),
        None => Ok((NumberLabel::Other, text.to_owned())),
    }
}

/// Runs `konferenz phonebook ...`, printing results to stdout. `default_region` is used when
/// a command has no `--region`.
pub async fn run(
    command: PhonebookCommand,
    store: &Store,
    default_region: &str,
) -> anyhow::Result<()> {
    match command {
        PhonebookCommand::Add {
            name,
            company,
            numbers,
            region,
        } => {
            let region = region.as_deref().unwrap_or(default_region);
            let contact =
                Contact::new(&name, company.as_deref(), parse_numbers(&numbers, region)?)?;
            let entry = store.add_phonebook_entry(&contact).await?;
            println!("entry {} added: {}", entry.id, entry.contact.name());
        }
        PhonebookCommand::List { json } => {
            let entries = store.list_phonebook().await?;
            if json {
                let list: Vec<serde_json::Value> = entries.iter().map(entry_json).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if entries.is_empty() {
                println!("the phone book is empty");
            } else {
                print!("{}", table(entries.iter()));
            }
        }
        PhonebookCommand::Show { id } => {
            let entry = store
                .phonebook_entry(id)
                .await?
                .with_context(|| format!("no phone-book entry {id}"))?;
            print!("{}", details(&entry));
        }
        PhonebookCommand::Update {
            id,
            name,
            company,
            no_company,
            numbers,
            region,
        } => {
            let region = region.as_deref().unwrap_or(default_region);
            let old = store
                .phonebook_entry(id)
                .await?
                .with_context(|| format!("no phone-book entry {id}"))?
                .contact;
            let company = match (no_company, &company) {
                (true, _) => None,
                (false, Some(c)) => Some(c.as_str()),
                (false, None) => old.company(),
            };
            let numbers = if numbers.is_empty() {
                old.numbers().to_vec()
            } else {
                parse_numbers(&numbers, region)?
            };
            let contact = Contact::new(name.as_deref().unwrap_or(old.name()), company, numbers)?;
            store.update_phonebook_entry(id, &contact).await?;
            println!("entry {id} updated");
        }
        PhonebookCommand::Remove { id } => {
            store.remove_phonebook_entry(id).await?;
            println!("entry {id} removed");
        }
        PhonebookCommand::Search { query } => {
            let hits = store.search_phonebook(&query).await?;
            if hits.is_empty() {
                println!("no entry matches {query:?}");
            } else {
                print!("{}", table(hits.iter().map(|h| &h.entry)));
            }
        }
        PhonebookCommand::Import { file, region } => {
            let region = region.as_deref().unwrap_or(default_region);
            import(store, &file, region).await?;
        }
    }
    Ok(())
}

async fn import(store: &Store, file: &std::path::Path, region: &str) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str());
    let read = phonebook::import(&bytes, Format::detect(name, &bytes), region)
        .with_context(|| format!("cannot import {}", file.display()))?;
    let outcome = store.import_phonebook(read.contacts).await?;
    println!(
        "imported {} entries, merged {}, rejected {}",
        outcome.added,
        outcome.merged,
        read.rejected.len()
    );
    for rejected in &read.rejected {
        println!("rejected {rejected}");
    }
    Ok(())
}

fn parse_numbers(
    numbers: &[(NumberLabel, String)],
    region: &str,
) -> anyhow::Result<Vec<ContactNumber>> {
    numbers
        .iter()
        .map(|(label, text)| {
            let number = PhoneNumber::parse(text, region)
                .with_context(|| format!("--number {label}={text}"))?;
            Ok(ContactNumber {
                label: *label,
                number,
            })
        })
        .collect()
}

fn entry_json(entry: &PhonebookEntry) -> serde_json::Value {
    let c = &entry.contact;
    serde_json::json!({
        "id": entry.id.0,
        "name": c.name(),
        "company": c.company(),
        "numbers": c.numbers().iter().map(|n| serde_json::json!({
            "label": n.label.as_str(),
            "number": n.number.as_str(),
        })).collect::<Vec<_>>(),
    })
}

/// `work +41…, mobile +41…`
fn numbers_text(contact: &Contact) -> String {
    contact
        .numbers()
        .iter()
        .map(|n| format!("{} {}", n.label, n.number))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Entries as an aligned table with a header line.
fn table<'e>(entries: impl Iterator<Item = &'e PhonebookEntry>) -> String {
    let rows: Vec<[String; 4]> = entries
        .map(|e| {
            [
                e.id.to_string(),
                e.contact.name().to_owned(),
                e.contact.company().unwrap_or("-").to_owned(),
                numbers_text(&e.contact),
            ]
        })
        .collect();
    crate::table::render(["ID", "NAME", "COMPANY", "NUMBERS"], &rows)
}

/// One entry, a field per line.
fn details(entry: &PhonebookEntry) -> String {
    let c = &entry.contact;
    let mut out = format!("id:      {}\nname:    {}\n", entry.id, c.name());
    if let Some(company) = c.company() {
        let _ = writeln!(out, "company: {company}");
    }
    for n in c.numbers() {
        let _ = writeln!(out, "{:<8} {}", format!("{}:", n.label), n.number);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_numbers_parse() {
        assert_eq!(
            parse_labelled("mobile=079 123").unwrap(),
            (NumberLabel::Mobile, "079 123".to_owned())
        );
        assert_eq!(
            parse_labelled("+41441234567").unwrap(),
            (NumberLabel::Other, "+41441234567".to_owned())
        );
        assert!(parse_labelled("fax=123").is_err());
    }
}
