//! `konferenz token create|list|revoke`: API tokens for scripts, written straight to the
//! database (the server need not run). A token is printed once and stored only as its
//! SHA-256; it acts with its user's rights.

use anyhow::bail;
use clap::Subcommand;
use konferenz_store::Store;

use crate::api::{TOKEN_PREFIX, hash, secret};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a user and print it (once).
    Create {
        /// The user's number.
        #[arg(long)]
        user: String,
        /// What it is for, e.g. "nightly report".
        #[arg(long, default_value = "script")]
        name: String,
    },
    /// List tokens (id, user, name, created, last used), of one user or all.
    List {
        #[arg(long)]
        user: Option<String>,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id.
    Revoke {
        /// The id `token list` shows.
        id: i64,
    },
}

/// Runs `konferenz token ...`.
pub async fn run(command: TokenCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { user, name } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("--name must not be empty");
            }
            let token = secret(TOKEN_PREFIX);
            let stored = store.create_api_token(&user, name, &hash(&token)).await?;
            let subject = format!("token {} of {user}", stored.id);
            crate::audit::record(store, "command line", "token.create", &subject, name, None).await;
            eprintln!(
                "token {} for user {user} created; it is shown only now:",
                stored.id
            );
            println!("{token}");
        }
        TokenCommand::List { user, json } => {
            let tokens = store.list_api_tokens(user.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                let rows: Vec<[String; 5]> = tokens
                    .iter()
                    .map(|t| {
                        [
                            t.id.to_string(),
                            t.user.clone(),
                            t.name.clone(),
                            crate::cli::utc_timestamp(t.created_at),
                            t.last_used_at
                                .map_or("never".into(), crate::cli::utc_timestamp),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    crate::table::render(["ID", "USER", "NAME", "CREATED", "LAST USED"], &rows)
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if !store.revoke_api_token(id, None).await? {
                bail!("no token {id}");
            }
            let subject = format!("token {id}");
            crate::audit::record(store, "command line", "token.revoke", &subject, "", None).await;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
