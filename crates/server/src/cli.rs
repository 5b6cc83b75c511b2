//! The command line: `konferenz [--config FILE] serve | room ... | config`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use konferenz_conference::{Language, Pin, RoomNumber};
use konferenz_store::{NewRoom, Room, Store};

use crate::config::{Config, KEYS_HELP};
use crate::http::RoomJson;

/// Telephone-conference server: dial a room number, talk, and manage it all from the web.
#[derive(Debug, Parser)]
#[command(name = "konferenz", version, after_long_help = KEYS_HELP)]
pub struct Cli {
    /// TOML configuration file (keys listed under --help).
    #[arg(long, global = true, env = "KONFERENZ_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (SIP, RTP and HTTP) until SIGTERM or Ctrl-C.
    Serve,
    /// Add, list and remove conference rooms.
    Room {
        #[command(subcommand)]
        command: RoomCommand,
    },
    /// Print the effective configuration as TOML.
    Config {
        #[command(subcommand)]
        command: Option<ConfigCommand>,
    },
    /// Call numbers into a room: whoever answers is put straight in, without a PIN
    /// (asks the running server through its HTTP API).
    Invite {
        /// The room.
        #[arg(long)]
        room: RoomNumber,
        /// Numbers to call (dialled through trunk.uri), or names from the phone book
        /// ("mül" finds "Müller, Anna"; several matches are listed to choose from).
        #[arg(required = true, value_name = "NUMBER_OR_NAME")]
        numbers: Vec<String>,
    },
    /// The participants of a room (in the menu, invited, in the conference, recently
    /// finished) and their live states.
    Participants {
        /// The room.
        #[arg(long)]
        room: RoomNumber,
        /// Keep printing every change until Ctrl-C.
        #[arg(long)]
        follow: bool,
    },
    /// Hang up a participant's call (BYE, or CANCEL while it rings).
    Hangup {
        /// The call id `konferenz participants` shows.
        call: u64,
        /// Also bar the caller ID / invited number from calling this room again.
        #[arg(long)]
        block: bool,
        /// How long the block lasts, e.g. 30m, 2h, 7d (default: for good).
        #[arg(long, requires = "block", value_parser = parse_duration, value_name = "DURATION")]
        block_for: Option<std::time::Duration>,
    },
    /// Who is barred from a room (hung up with --block), until when.
    Blocks {
        /// The room.
        #[arg(long)]
        room: RoomNumber,
    },
    /// Let a blocked number or caller ID into a room again.
    Unblock {
        /// The room.
        #[arg(long)]
        room: RoomNumber,
        /// The number or caller ID as `konferenz blocks` lists it.
        who: String,
    },
    /// Stop mixing a participant's audio (they still hear the room): one call, or with
    /// --room everyone in the room (--all) or everyone but the host (--all-but CALL).
    Mute {
        /// The call id `konferenz participants` shows.
        #[arg(required_unless_present = "room", conflicts_with = "room")]
        call: Option<u64>,
        #[command(flatten)]
        group: MuteGroup,
    },
    /// Mix a muted participant again (one call, or --room 800 --all).
    Unmute {
        /// The call id `konferenz participants` shows.
        #[arg(required_unless_present = "room", conflicts_with = "room")]
        call: Option<u64>,
        #[command(flatten)]
        group: MuteGroup,
    },
    /// The voice prompts.
    Prompts {
        #[command(subcommand)]
        command: PromptsCommand,
    },
    /// The phone book: contacts to invite by name.
    Phonebook {
        #[command(subcommand)]
        command: crate::phonebook_cli::PhonebookCommand,
    },
    /// Scheduled conferences: a PIN valid in a time window, mailed calendar invitations.
    Schedule {
        #[command(subcommand)]
        command: crate::schedule_cli::ScheduleCommand,
    },
    /// API tokens for scripts (`Authorization: Bearer TOKEN`).
    Token {
        #[command(subcommand)]
        command: crate::token_cli::TokenCommand,
    },
    /// Write a consistent copy of the database to FILE (also while the server runs).
    Backup(crate::backup_cli::BackupArgs),
    /// Replace the database with a backup; the server must be stopped (the current database
    /// is kept as <db>.before-restore-<unix time>).
    Restore(crate::backup_cli::RestoreArgs),
    /// Users of the built-in registrar: their SIP phones register with an internal
    /// number and password, and are called there when invited.
    User {
        #[command(subcommand)]
        command: crate::user_cli::UserCommand,
    },
}

/// Everyone in a room at once, for `mute` / `unmute`.
#[derive(Debug, clap::Args)]
pub struct MuteGroup {
    /// The room whose participants to change.
    #[arg(long, requires = "who")]
    pub room: Option<RoomNumber>,
    /// Everyone in the room.
    #[arg(long, group = "who", requires = "room")]
    pub all: bool,
    /// Everyone but this call (the host), e.g. `mute --room 800 --all-but 17`.
    #[arg(long, group = "who", requires = "room", value_name = "CALL")]
    pub all_but: Option<u64>,
}

/// `konferenz prompts ...`
#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// Every recording as `<lang>/<name>.wav<TAB>default text` (input for scripts/make-prompts).
    List,
}

/// `konferenz room ...`
#[derive(Debug, Subcommand)]
pub enum RoomCommand {
    /// Create a room.
    Add {
        /// The number callers dial, e.g. 800.
        #[arg(long)]
        number: RoomNumber,
        /// A display name, e.g. "Weekly sync".
        #[arg(long)]
        name: Option<String>,
        /// The PIN callers must enter (4-12 digits); unique among rooms.
        #[arg(long)]
        pin: Option<Pin>,
        /// Prompt language of the room (en, de); default from the config.
        #[arg(long, value_parser = parse_language)]
        language: Option<Language>,
        /// The room's own on-hold music: a WAV file on the server (any rate, mono/stereo).
        #[arg(long, value_name = "WAV")]
        music: Option<PathBuf>,
        /// Callers of this room may not switch the prompt language.
        #[arg(long)]
        no_language_switch: bool,
    },
    /// Set or clear a room's PIN.
    Pin {
        /// The room's number.
        #[arg(long)]
        number: RoomNumber,
        /// The new PIN (4-12 digits).
        #[arg(long, conflicts_with = "clear", required_unless_present = "clear")]
        pin: Option<Pin>,
        /// Remove the PIN: the room is open to everyone who dials it.
        #[arg(long)]
        clear: bool,
    },
    /// List the rooms.
    #[command(alias = "ls")]
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete a room.
    #[command(alias = "rm")]
    Remove {
        /// The room's number.
        #[arg(long)]
        number: RoomNumber,
    },
    /// Lock the running conference: new dial-ins hear "this conference is locked" and are
    /// hung up; invitations still get in. Ends with the conference (asks the server).
    Lock {
        /// The room's number.
        #[arg(long)]
        number: RoomNumber,
    },
    /// Let dial-ins into a locked conference again (asks the server).
    Unlock {
        /// The room's number.
        #[arg(long)]
        number: RoomNumber,
    },
    /// End the running conference: hang up everyone in the room (asks the server).
    End {
        /// The room's number.
        #[arg(long)]
        number: RoomNumber,
    },
}

/// `konferenz config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML (the default).
    Show,
}

/// Opens the configured database, naming the URL if that fails.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.database.url)
        .await
        .map_err(|e| crate::startup::database_error(&config.database.url, e))
}

/// The music file must exist and decode now, not fail silently when someone is alone.
fn check_music(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("--music {}", path.display()))?;
    konferenz_media::decode_wav(&bytes).with_context(|| format!("--music {}", path.display()))?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    Ok(absolute.to_string_lossy().into_owned())
}

/// `90s`, `30m`, `2h`, `7d`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with s, m, h or d, e.g. 2h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" | "" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

fn parse_language(code: &str) -> Result<Language, String> {
    Language::parse(code).map_err(|e| e.to_string())
}

/// Runs `konferenz room ...`, printing results to stdout.
pub async fn room(command: RoomCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        RoomCommand::Lock { .. } | RoomCommand::Unlock { .. } | RoomCommand::End { .. } => {
            // main.rs sends these to the running server before the store is opened.
            anyhow::bail!("room lock, unlock and end are commands for the running server")
        }
        RoomCommand::Add {
            number,
            name,
            pin,
            language,
            music,
            no_language_switch,
        } => {
            if crate::api::scheduled_id(number.as_str()).is_some() {
                anyhow::bail!(
                    "room numbers of c followed by digits name scheduled conferences; choose another"
                );
            }
            let music = match music {
                Some(path) => Some(check_music(&path)?),
                None => None,
            };
            let new = NewRoom {
                name: name.as_deref(),
                pin: pin.as_ref(),
                language,
                music: music.as_deref(),
                language_switch: no_language_switch.then_some(false),
                ..NewRoom::new(&number)
            };
            let room = store.add_room(&new).await?;
            let with_pin = if room.pin.is_some() {
                " with a PIN"
            } else {
                ""
            };
            println!("room {} added{with_pin}", room.number);
        }
        RoomCommand::Pin { number, pin, clear } => {
            store
                .set_room_pin(&number, if clear { None } else { pin.as_ref() })
                .await?;
            let what = if clear { "cleared" } else { "set" };
            println!("PIN of room {number} {what}");
        }
        RoomCommand::List { json } => {
            let rooms = store.list_rooms().await?;
            if json {
                let rooms: Vec<RoomJson> = rooms.iter().map(RoomJson::from).collect();
                println!("{}", serde_json::to_string_pretty(&rooms)?);
            } else if rooms.is_empty() {
                println!("no rooms");
            } else {
                print!("{}", room_table(&rooms));
            }
        }
        RoomCommand::Remove { number } => {
            store.remove_room(&number).await?;
            println!("room {number} removed");
        }
    }
    Ok(())
}

/// Runs `konferenz config [show]`.
pub fn config(command: Option<ConfigCommand>, config: &Config) {
    match command {
        None | Some(ConfigCommand::Show) => print!("{}", config.to_toml()),
    }
}

/// Rooms as an aligned text table with a header line.
fn room_table(rooms: &[Room]) -> String {
    let rows: Vec<[String; 4]> = rooms
        .iter()
        .map(|r| {
            [
                r.number.to_string(),
                r.name.clone().unwrap_or_else(|| "-".to_owned()),
                // PINs stay off screens and terminal logs; `yes` says one is set.
                if r.pin.is_some() { "yes" } else { "-" }.to_owned(),
                utc_timestamp(r.created_at),
            ]
        })
        .collect();
    crate::table::render(["NUMBER", "NAME", "PIN", "CREATED"], &rows)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC), without a date library.
pub fn utc_timestamp(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_duration("7d").unwrap().as_secs(), 604_800);
        assert!(parse_duration("2w").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn timestamps_print_as_utc_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(utc_timestamp(1_735_689_599), "2024-12-31 23:59:59Z");
    }

    #[test]
    fn table_aligns_columns() {
        let rooms = [
            Room {
                number: RoomNumber::parse("800").unwrap(),
                name: Some("Weekly sync".to_owned()),
                created_at: 0,
                pin: Some(Pin::parse("4711").unwrap()),
                language: None,
                music: None,
                language_switch: None,
                muted: false,
                owner: None,
            },
            Room {
                number: RoomNumber::parse("12345678").unwrap(),
                name: None,
                created_at: 0,
                pin: None,
                language: None,
                music: None,
                language_switch: None,
                muted: false,
                owner: None,
            },
        ];
        assert_eq!(
            room_table(&rooms),
            "NUMBER    NAME         PIN  CREATED\n\
             800       Weekly sync  yes  1970-01-01 00:00:00Z\n\
             12345678  -            -    1970-01-01 00:00:00Z\n"
        );
    }
}
