//! `skvoz outbox …`: the outbox from the command line — list messages,
//! retry a dead one or all of a project's dead letters. A running server
//! picks retried messages up at its next poll.

use crate::{load_config, open_app, print_json, resolve_project, DataArg};
use clap::Subcommand;
use skvoz_store::{OutboxFilter, Scope};
use std::path::PathBuf;

/// The outbox.
#[derive(Subcommand)]
pub enum OutboxCommand {
    /// The project's messages as JSON lines, newest first.
    List {
        /// Project id or name.
        #[arg(long)]
        project: String,
        /// pending, delivered, dead or skipped.
        #[arg(long)]
        status: Option<String>,
        /// webhook, ga4, metrika, metrika_calls, esputnik, smtp, …
        #[arg(long)]
        kind: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        data: DataArg,
    },
    /// Put a dead message (ID) or, with --dead, every dead message of the
    /// project back in the queue.
    Retry {
        /// The message id.
        id: Option<i64>,
        /// Every dead message of the project.
        #[arg(long, conflicts_with = "id")]
        dead: bool,
        /// Project id or name.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        data: DataArg,
    },
}

/// Runs an `outbox` command.
pub async fn outbox(cfg: Option<&PathBuf>, cmd: OutboxCommand) -> anyhow::Result<()> {
    match cmd {
        OutboxCommand::List {
            project,
            status,
            kind,
            limit,
            data,
        } => {
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let p = resolve_project(&app, &project).await?;
            let filter = OutboxFilter {
                status,
                kind,
                before: None,
                limit,
            };
            for m in app.outbox.list(Scope::new(p.id), filter).await? {
                print_json(&m)?;
            }
        }
        OutboxCommand::Retry {
            id,
            dead,
            project,
            data,
        } => {
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let p = resolve_project(&app, &project).await?;
            let scope = Scope::new(p.id);
            let retried = match (id, dead) {
                (Some(id), false) => {
                    app.outbox.retry(scope, id).await?;
                    1
                }
                (None, true) => app.outbox.retry_dead(scope).await?,
                _ => anyhow::bail!("name a message id or pass --dead"),
            };
            app.shutdown().await?;
            print_json(&serde_json::json!({"retried": retried}))?;
        }
    }
    Ok(())
}
