//! `konferenz user ...`: the users — an internal number, a name, an e-mail address, a
//! password, and the flags `admin` and `organiser`. The one password serves the SIP phone
//! (stored as digest hashes, HA1, for the configured realm) and the web login (stored as an
//! argon2id hash); it is never stored in clear, never printed, and may come from stdin so
//! it stays out of shell history and process lists.

use std::io::BufRead;
use std::time::SystemTime;

use crate::accounts::{self, parse_email, parse_email_or_empty, parse_number};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use konferenz_store::{SipUser, Store, UserChanges};

use crate::location::{Binding, unix};

/// `konferenz user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user: their phone registers with NUMBER and the password, and they log in
    /// to the web window with NUMBER or EMAIL and the same password.
    Add {
        /// The internal number, e.g. 201 (digits, letters, '+', '-', '_', '.').
        #[arg(long, value_parser = parse_number)]
        number: String,
        /// The person's name.
        #[arg(long, default_value = "")]
        name: String,
        /// The e-mail address (to log in with, and for invitations).
        #[arg(long, value_parser = parse_email)]
        email: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
        /// May manage users and every room.
        #[arg(long)]
        admin: bool,
        /// May manage conferences (the rooms they own or were given).
        #[arg(long)]
        organiser: bool,
    },
    /// Change a user's name, e-mail address or flags.
    Set {
        #[arg(long, value_parser = parse_number)]
        number: String,
        #[arg(long)]
        name: Option<String>,
        /// The new e-mail address; an empty value removes it.
        #[arg(long, value_parser = parse_email_or_empty)]
        email: Option<String>,
        #[arg(long, value_name = "true|false")]
        admin: Option<bool>,
        #[arg(long, value_name = "true|false")]
        organiser: Option<bool>,
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

/// Runs `konferenz user ...`.
pub async fn run(command: UserCommand, store: &Store, realm: &str) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            number,
            name,
            email,
            password,
            admin,
            organiser,
        } => {
            let mut user = accounts::new_user(&number, &name, realm, &password.read()?)?;
            user.email = email;
            user.admin = admin;
            user.organiser = organiser;
            store.put_sip_user(&user, false).await?;
            cli_audit(store, "user.add", &number, &flags(&user)).await;
            println!("user {number} added (realm {realm}){}", flags(&user));
        }
        UserCommand::Set {
            number,
            name,
            email,
            admin,
            organiser,
        } => {
            let changes = UserChanges {
                name,
                email: email.map(|e| (!e.is_empty()).then_some(e)),
                admin,
                organiser,
            };
            let user = store.update_user(&number, &changes).await?;
            cli_audit(store, "user.set", &number, &flags(&user)).await;
            println!("user {number} changed{}", flags(&user));
        }
        UserCommand::Password { number, password } => {
            let Some(existing) = store.find_sip_user(&number).await? else {
                bail!("no user {number}");
            };
            let user = accounts::with_password(existing, realm, &password.read()?)?;
            store.put_sip_user(&user, true).await?;
            cli_audit(store, "user.password", &number, "").await;
            println!("password of user {number} set");
        }
        UserCommand::List { json } => list(store, json).await?,
        UserCommand::Remove { number } => {
            store.remove_sip_user(&number).await?;
            cli_audit(store, "user.remove", &number, "").await;
            println!("user {number} removed");
        }
    }
    Ok(())
}

/// An audit-log entry for a change made on the command line (by whoever may run it: the
/// server's own user).
async fn cli_audit(store: &Store, action: &str, number: &str, detail: &str) {
    let detail = detail.trim_start_matches(": ");
    crate::audit::record(store, "command line", action, number, detail, None).await;
}

/// `: admin, organiser` for the flags a user has.
fn flags(user: &SipUser) -> String {
    let set: Vec<&str> = [(user.admin, "admin"), (user.organiser, "organiser")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
    if set.is_empty() {
        String::new()
    } else {
        format!(": {}", set.join(", "))
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
                serde_json::json!({"number": u.number, "name": u.name, "email": u.email, "admin": u.admin, "organiser": u.organiser, "realm": u.realm, "registrations": contacts})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if users.is_empty() {
        println!("no users");
        return Ok(());
    }
    let rows: Vec<[String; 5]> = users
        .iter()
        .map(|u| {
            let contacts = registered(&u.number);
            let status = match contacts.first() {
                None => "-".to_owned(),
                Some(b) => format!("{} ({} s)", b.contact, b.seconds_left(now)),
            };
            let roles = flags(u);
            let roles = roles.strip_prefix(": ").unwrap_or("-").to_owned();
            [
                u.number.clone(),
                u.name.clone(),
                u.email.clone().unwrap_or_else(|| "-".to_owned()),
                roles,
                status,
            ]
        })
        .collect();
    print!(
        "{}",
        crate::table::render(["NUMBER", "NAME", "EMAIL", "ROLES", "REGISTERED"], &rows)
    );
    Ok(())
}
