//! `konferenz user ...`: the users of the built-in registrar — an internal number, a
//! name and a password their SIP phone registers with. Passwords are stored only as digest
//! hashes (HA1) for the configured realm, never printed, and may come from stdin so they
//! stay out of shell history and process lists.

use std::io::BufRead;
use std::time::SystemTime;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use konferenz_sip::digest::Ha1;
use konferenz_store::{SipUser, Store};

use crate::location::{Binding, unix};

/// `konferenz user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user whose phone may register with NUMBER and the password.
    Add {
        /// The internal number, e.g. 201 (digits, letters, '+', '-', '_', '.').
        #[arg(long, value_parser = parse_number)]
        number: String,
        /// The person's name.
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Set a user's password.
    Password {
        #[arg(long, value_parser = parse_number)]
        number: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// List the users and whether their phones are registered.
    #[command(alias = "ls")]
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete a user (and forget their registration).
    #[command(alias = "rm")]
    Remove {
        #[arg(long, value_parser = parse_number)]
        number: String,
    },
}

/// The password, from the command line or the first line of stdin.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(
        long,
        conflicts_with = "password_stdin",
        required_unless_present = "password_stdin"
    )]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordArgs {
    fn read(&self) -> anyhow::Result<String> {
        let password = match &self.password {
            Some(p) => p.clone(),
            None => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        if password.chars().count() < 8 {
            bail!("password: use at least 8 characters");
        }
        Ok(password)
    }
}

fn parse_number(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_.".contains(c));
    if ok {
        Ok(text.to_owned())
    } else {
        Err("use 1-32 digits, letters, '+', '-', '_' or '.'".into())
    }
}

/// Runs `konferenz user ...`.
pub async fn run(command: UserCommand, store: &Store, realm: &str) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            number,
            name,
            password,
        } => {
            let user = user(&number, &name, realm, &password.read()?);
            store.put_sip_user(&user, false).await?;
            println!("user {number} added (realm {realm})");
        }
        UserCommand::Password { number, password } => {
            let Some(existing) = store.find_sip_user(&number).await? else {
                bail!("no user {number}");
            };
            let user = user(&number, &existing.name, realm, &password.read()?);
            store.put_sip_user(&user, true).await?;
            println!("password of user {number} set");
        }
        UserCommand::List { json } => list(store, json).await?,
        UserCommand::Remove { number } => {
            store.remove_sip_user(&number).await?;
            println!("user {number} removed");
        }
    }
    Ok(())
}

fn user(number: &str, name: &str, realm: &str, password: &str) -> SipUser {
    let ha1 = Ha1::compute(number, realm, password);
    SipUser {
        number: number.to_owned(),
        name: name.to_owned(),
        realm: realm.to_owned(),
        ha1_md5: ha1.md5,
        ha1_sha256: ha1.sha256,
    }
}

async fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let users = store.list_sip_users().await?;
    let now = SystemTime::now();
    let bindings = store.live_sip_bindings(unix(now)).await?;
    let registered = |number: &str| -> Vec<Binding> {
        bindings
            .iter()
            .filter(|b| b.number == number)
            .filter_map(Binding::from_stored)
            .collect()
    };
    if json {
        let rows: Vec<_> = users
            .iter()
            .map(|u| {
                let contacts: Vec<_> = registered(&u.number)
                    .iter()
                    .map(|b| serde_json::json!({"contact": b.contact, "expires_in": b.seconds_left(now)}))
                    .collect();
                serde_json::json!({"number": u.number, "name": u.name, "realm": u.realm, "registrations": contacts})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if users.is_empty() {
        println!("no users");
        return Ok(());
    }
    let rows: Vec<[String; 3]> = users
        .iter()
        .map(|u| {
            let contacts = registered(&u.number);
            let status = match contacts.first() {
                None => "-".to_owned(),
                Some(b) => format!("{} ({} s)", b.contact, b.seconds_left(now)),
            };
            [u.number.clone(), u.name.clone(), status]
        })
        .collect();
    print!(
        "{}",
        crate::table::render(["NUMBER", "NAME", "REGISTERED"], &rows)
    );
    Ok(())
}
