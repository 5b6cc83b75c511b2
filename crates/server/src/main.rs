//! The `konferenz` binary: command line, config, and the server's run loop.
//!
//! Exit codes: 0 success, 1 a command failed (e.g. a duplicate room), 2 bad command
//! line or configuration.

mod accounts;
mod admin_token;
mod api;
mod audit;
mod backup_cli;
mod browser;
mod bus;
mod call_at_start;
mod cli;
mod config;
mod control;
mod fd_limit;
mod http;
mod invite_cli;
mod location;
mod logging;
mod mail_worker;
mod metrics;
mod mixer;
mod overload;
mod participants;
mod persist;
mod phonebook_cli;
mod prompts;
mod resolve;
mod room;
mod room_index;
mod rtp_ports;
mod schedule_cli;
mod scheduling;
mod serve;
mod sip_task;
mod sse;
mod startup;
mod table;
mod tcp;
mod token_cli;
mod udp_batch;
mod user_cli;
mod web_ui;
mod webrtc;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::Config;

/// Exit code for an unusable configuration (the same as clap's usage errors).
const EXIT_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load_valid(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("konferenz: config error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Err(e) = logging::init(&config.log) {
        eprintln!("konferenz: {e:#}");
        return ExitCode::from(EXIT_CONFIG);
    }
    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("konferenz: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let _lock = backup_cli::serve_lock(&config)?;
            let store = cli::open_store(&config).await?;
            serve::run(config, store).await
        }
        Command::Room {
            command: cli::RoomCommand::Lock { number },
        } => tokio::task::spawn_blocking(move || invite_cli::lock(&config, &number, true)).await?,
        Command::Room {
            command: cli::RoomCommand::Unlock { number },
        } => tokio::task::spawn_blocking(move || invite_cli::lock(&config, &number, false)).await?,
        Command::Room {
            command: cli::RoomCommand::End { number },
        } => tokio::task::spawn_blocking(move || invite_cli::end(&config, &number)).await?,
        Command::Room { command } => {
            let store = cli::open_store(&config).await?;
            cli::room(command, &store).await
        }
        Command::Config { command } => {
            cli::config(command, &config);
            Ok(())
        }
        Command::Invite { room, numbers } => {
            let store = cli::open_store(&config).await?;
            let mut resolved = Vec::new();
            for wanted in &numbers {
                resolved.push(invite_cli::resolve(&store, wanted).await?);
            }
            tokio::task::spawn_blocking(move || invite_cli::invite(&config, &room, &resolved))
                .await?
        }
        Command::Hangup {
            call,
            block,
            block_for,
        } => {
            tokio::task::spawn_blocking(move || {
                invite_cli::hang_up(&config, call, block, block_for)
            })
            .await?
        }
        Command::Blocks { room } => {
            tokio::task::spawn_blocking(move || invite_cli::blocks(&config, &room)).await?
        }
        Command::Unblock { room, who } => {
            tokio::task::spawn_blocking(move || invite_cli::unblock(&config, &room, &who)).await?
        }
        Command::Mute { call, group } => {
            tokio::task::spawn_blocking(move || invite_cli::mute(&config, call, &group, true))
                .await?
        }
        Command::Unmute { call, group } => {
            tokio::task::spawn_blocking(move || invite_cli::mute(&config, call, &group, false))
                .await?
        }
        Command::Participants { room, follow } => {
            tokio::task::spawn_blocking(move || invite_cli::participants(&config, &room, follow))
                .await?
        }
        Command::Prompts {
            command: cli::PromptsCommand::List,
        } => {
            print!("{}", prompts::list());
            Ok(())
        }
        Command::Phonebook { command } => {
            let store = cli::open_store(&config).await?;
            phonebook_cli::run(command, &store, &config.phonebook.default_region).await
        }
        Command::Schedule { command } => {
            let store = cli::open_store(&config).await?;
            schedule_cli::run(command, &store, &config).await
        }
        Command::Token { command } => {
            let store = cli::open_store(&config).await?;
            token_cli::run(command, &store).await
        }
        Command::Backup(args) => backup_cli::backup(args, &config).await,
        Command::Restore(args) => backup_cli::restore(args, &config).await,
        Command::User { command } => {
            let store = cli::open_store(&config).await?;
            user_cli::run(command, &store, &config.registrar.realm).await
        }
    }
}
