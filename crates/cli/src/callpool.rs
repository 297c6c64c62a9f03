//! `skvoz callpool …` and `skvoz calls …`: number pools and calls from the
//! command line, over the same services as the API.

use crate::{load_config, open_app, print_json, resolve_project, DataArg};
use clap::Subcommand;
use std::path::PathBuf;

/// Number pools (call tracking).
#[derive(Subcommand)]
pub enum CallpoolCommand {
    /// List the project's pools as JSON lines: numbers, busy now, shared
    /// rate of the last 7 days.
    List {
        /// Project id or name.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// How many numbers a dynamic pool needs so that at most 1% of its
    /// visits share a number, from the project's own traffic.
    Sizing {
        /// Pool id.
        pool: String,
        /// Project id or name.
        #[arg(long)]
        project: String,
        /// Days of traffic to replay.
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[command(flatten)]
        data: DataArg,
    },
}

/// Calls (call tracking).
#[derive(Subcommand)]
pub enum CallsCommand {
    /// Calls of the last N days as JSON lines, newest first.
    List {
        /// Project id or name.
        #[arg(long)]
        project: String,
        /// Days back from now.
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[command(flatten)]
        data: DataArg,
    },
}

/// Runs a `callpool` command.
pub async fn callpool(cfg: Option<&PathBuf>, cmd: CallpoolCommand) -> anyhow::Result<()> {
    match cmd {
        CallpoolCommand::List { project, data } => {
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let p = resolve_project(&app, &project).await?;
            let ctx = app.contexts.by_id(p.id).await?;
            for pool in app.calls.pools(&ctx).await? {
                print_json(&pool)?;
            }
        }
        CallpoolCommand::Sizing {
            pool,
            project,
            days,
            data,
        } => {
            anyhow::ensure!((1..=90).contains(&days), "--days must be 1-90");
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let p = resolve_project(&app, &project).await?;
            let ctx = app.contexts.by_id(p.id).await?;
            print_json(&app.calls.sizing(&ctx, &pool, days).await?)?;
        }
    }
    Ok(())
}

/// Runs a `calls` command.
pub async fn calls(cfg: Option<&PathBuf>, cmd: CallsCommand) -> anyhow::Result<()> {
    match cmd {
        CallsCommand::List {
            project,
            days,
            data,
        } => {
            anyhow::ensure!((1..=3650).contains(&days), "--days must be 1-3650");
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let p = resolve_project(&app, &project).await?;
            let ctx = app.contexts.by_id(p.id).await?;
            let rows = app.calls.recent(&ctx, days, 100_000).await?;
            for row in rows {
                print_json(&row)?;
            }
        }
    }
    Ok(())
}
