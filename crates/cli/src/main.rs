//! `skvoz`: the one binary. A thin layer over the library crates: parse the
//! command line, load the configuration, open the store, call services.

mod callpool;
mod config;
mod outbox;

/// mimalloc: the ingestion path allocates many small strings per hit from
/// several threads, where glibc's allocator spends much of its time on arena
/// locks and consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use config::{Config, FlagOverrides};
use secrecy::ExposeSecret;
use skvoz_app::App;
use skvoz_store::Scope;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "skvoz",
    version,
    about = "Self-hosted end-to-end marketing analytics"
)]
struct Cli {
    /// Configuration file (default: ./skvoz.toml when present).
    #[arg(long, global = true, env = "SKVOZ_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where the store lives; every command that opens it takes this.
#[derive(Args, Clone, Default)]
struct DataArg {
    /// Data folder of the embedded store (default ./skvoz-data; env SKVOZ_DATA).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The store as a URL, e.g. sqlite:///var/lib/skvoz/skvoz.db (default:
    /// skvoz.db in the data folder; env SKVOZ_STORE).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        data: DataArg,
        /// Listen address (default 127.0.0.1:8080; env SKVOZ_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Seed the demo project and a first admin when the store is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Read or replace a project's settings document.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Fill a new `demo` project with a reproducible data set and print its
    /// keys as `project create` does.
    Demo {
        #[command(flatten)]
        data: DataArg,
        /// Days of history, ending yesterday.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Seed: the same seed on the same day gives the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Visitors (people; each makes one or more visits).
        #[arg(long, default_value_t = 3000)]
        visitors: u32,
    },
    /// Write a consistent copy of the store while it serves.
    Backup {
        /// Destination file (must not exist).
        dest: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Import data from files.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print a report (the same numbers as the HTTP API).
    #[command(subcommand)]
    Report(ReportCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Call-tracking number pools: status and sizing.
    #[command(subcommand)]
    Callpool(callpool::CallpoolCommand),
    /// Calls recorded by call tracking.
    #[command(subcommand)]
    Calls(callpool::CallsCommand),
    /// Outbound messages: list, retry dead letters.
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import ad spend from a CSV file (columns
    /// date,source,medium,campaign,ad,keyword,cost,clicks,impressions, or
    /// Yandex Metrika's Date,UTMSource,…,Expenses,Clicks; only date, source
    /// and cost are required). Each (day, source) in the file is replaced.
    Costs {
        /// The CSV file, or - for standard input.
        file: PathBuf,
        /// Project id or name.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        data: DataArg,
    },
}

/// Options every report takes.
#[derive(Args, Clone)]
struct ReportArgs {
    /// Project id or name.
    #[arg(long)]
    project: String,
    /// First day, YYYY-MM-DD (project time zone).
    #[arg(long)]
    from: Option<String>,
    /// Last day, inclusive.
    #[arg(long)]
    to: Option<String>,
    /// Attribution model, or several comma-separated.
    #[arg(long)]
    model: Option<String>,
    /// Comma list of channel,source,medium,campaign,ad,keyword.
    #[arg(long)]
    group_by: Option<String>,
    /// conversion or session.
    #[arg(long)]
    date_mode: Option<String>,
    /// First day of a comparison period.
    #[arg(long)]
    compare_from: Option<String>,
    /// Last day of a comparison period.
    #[arg(long)]
    compare_to: Option<String>,
    /// table (default on a terminal), csv or json.
    #[arg(long)]
    format: Option<String>,
    #[command(flatten)]
    data: DataArg,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The channel report.
    Channels {
        #[command(flatten)]
        args: ReportArgs,
        /// Metric to sort rows by (descending).
        #[arg(long)]
        sort: Option<String>,
    },
    /// One metric over time.
    Dynamics {
        #[command(flatten)]
        args: ReportArgs,
        /// The metric (default visits).
        #[arg(long)]
        metric: Option<String>,
        /// day, week, month or quarter.
        #[arg(long)]
        granularity: Option<String>,
    },
    /// The deal-stage funnel.
    Funnel {
        #[command(flatten)]
        args: ReportArgs,
    },
    /// The period's journeys as ChannelAttribution input: path,
    /// total_conversions, total_null, total_conversion_value.
    Paths {
        #[command(flatten)]
        args: ReportArgs,
        /// leads, deals or sales (default; its value is the revenue).
        #[arg(long)]
        conversion: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project; prints {"project_id","public_key","api_key"}.
    Create {
        /// Project name (letters, digits, '-', '_', '.').
        name: String,
        /// IANA time zone (default Europe/Moscow).
        #[arg(long)]
        timezone: Option<String>,
        /// ISO 4217 currency (default RUB).
        #[arg(long)]
        currency: Option<String>,
        #[command(flatten)]
        data: DataArg,
    },
    /// List projects as JSON lines.
    List {
        #[command(flatten)]
        data: DataArg,
    },
    /// Issue a new API key; the old one stops working. Prints the new key.
    RotateKey {
        /// Project id or name.
        project: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Print the settings document (secrets masked).
    Get {
        /// Project id or name.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Replace the settings document from FILE (or standard input with -).
    Put {
        /// Project id or name.
        #[arg(long)]
        project: String,
        /// JSON file, or - for standard input.
        file: PathBuf,
        /// Only store if the current version is this one.
        #[arg(long)]
        if_match: Option<i64>,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a dashboard user; the password is read from SKVOZ_NEW_PASSWORD
    /// or the first line of standard input.
    Create {
        /// Login.
        login: String,
        /// May manage every project.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example skvoz.toml.
    Example,
}

fn load_config(
    cli_config: Option<&PathBuf>,
    data: &DataArg,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Config> {
    // Parsed here rather than by clap, whose error would repeat the URL
    // (and a password in it); ours names only what is wrong.
    let store = match &data.store {
        Some(text) => Some(
            text.parse::<skvoz_backends::StoreUrl>()
                .map_err(|e| anyhow::anyhow!("--store: {e}"))?,
        ),
        None => None,
    };
    Config::load(
        cli_config.map(PathBuf::as_path),
        FlagOverrides {
            data: data.data.clone(),
            store,
            listen,
        },
    )
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let store = skvoz_backends::open_store(&config.store_url(), &config.open_options()).await?;
    let geoip = match &config.geoip_db {
        Some(path) => {
            Some(skvoz_app::tracking::geo::GeoIp::open(path).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    Ok(App::with_options(
        store,
        skvoz_app::AppOptions {
            geoip,
            outbox: skvoz_app::outbox::OutboxOptions {
                lease: std::time::Duration::from_secs(config.outbox_lease_seconds),
                retention: (config.outbox_retention_days > 0)
                    .then(|| std::time::Duration::from_secs(config.outbox_retention_days * 86_400)),
                ..Default::default()
            },
            report_snapshots: Some(skvoz_app::reports::SnapshotOptions::in_data_dir(
                &config.data,
            )),
        },
    ))
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn resolve_project(app: &App, text: &str) -> anyhow::Result<skvoz_domain::Project> {
    if let Ok(id) = text.parse::<i64>() {
        if let Some(p) = app.projects.by_id(skvoz_domain::ProjectId(id)).await? {
            return Ok(p);
        }
    }
    app.projects
        .by_name(text)
        .await?
        .with_context(|| format!("no project with id or name '{text}'"))
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    print_out(&format!("{}\n", serde_json::to_string(value)?))
}

/// Writes to standard output; a reader that went away (`| head`) ends the
/// output quietly instead of a panic.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let app = open_app(&config).await?;
    if demo {
        let password = config
            .admin_password
            .as_ref()
            .map(|p| p.expose_secret().to_owned());
        match skvoz_app::demo::seed_if_empty(
            &app,
            password.as_deref(),
            &skvoz_app::demo::DemoOptions::default(),
        )
        .await? {
            Some(seed) => {
                println!("Seeded the demo project (id {}).", seed.project.project_id);
                println!("  public key: {}", seed.project.public_key);
                println!("  API key:    {}   (shown once)", seed.project.api_key);
                if let Some((login, password)) = &seed.admin {
                    println!("Dashboard login: {login} / {password}   (shown once)");
                }
            }
            None => println!("Demo project already present; log in with the credentials printed when it was created."),
        }
    }
    let sessions = app.tracking.warm_up().await?;
    app.spawn_schedulers();
    tracing::info!(sessions, "active sessions loaded");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!("skvoz is serving at http://{addr}/");
    tracing::info!(%addr, data = %config.data.display(), store = %config.store_url(), "listening");
    let options = skvoz_server::ServerOptions {
        body_limit: config.body_limit,
        secure_cookies: config.secure_cookies,
        trust_proxy: config.trust_proxy,
    };
    skvoz_server::serve(listener, app, options, shutdown_signal()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cfg = cli.config.as_ref();
    match cli.command {
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::EXAMPLE);
        }
        Command::Serve { data, listen, demo } => {
            let config = load_config(cfg, &data, listen)?;
            init_logging(&config);
            serve(config, demo).await?;
        }
        Command::Project(cmd) => match cmd {
            ProjectCommand::Create {
                name,
                timezone,
                currency,
                data,
            } => {
                let app = open_app(&load_config(cfg, &data, None)?).await?;
                let (_, created) = app
                    .projects
                    .create(&name, timezone.as_deref(), currency.as_deref())
                    .await?;
                print_json(&created)?;
            }
            ProjectCommand::List { data } => {
                let app = open_app(&load_config(cfg, &data, None)?).await?;
                for p in app.projects.list().await? {
                    print_json(&serde_json::json!({
                        "project_id": p.id.0, "name": p.name, "public_key": p.public_key,
                        "created_at": p.created_at.to_rfc3339(),
                    }))?;
                }
            }
            ProjectCommand::RotateKey { project, data } => {
                let app = open_app(&load_config(cfg, &data, None)?).await?;
                let p = resolve_project(&app, &project).await?;
                let key = app.projects.rotate_api_key(&p).await?;
                print_json(&serde_json::json!({"project_id": p.id.0, "api_key": key}))?;
            }
        },
        Command::Settings(cmd) => match cmd {
            SettingsCommand::Get { project, data } => {
                let app = open_app(&load_config(cfg, &data, None)?).await?;
                let p = resolve_project(&app, &project).await?;
                let view = app.settings.get(Scope::new(p.id)).await?;
                eprintln!("version {}", view.version);
                println!("{}", serde_json::to_string_pretty(&view.doc)?);
            }
            SettingsCommand::Put {
                project,
                file,
                if_match,
                data,
            } => {
                let app = open_app(&load_config(cfg, &data, None)?).await?;
                let p = resolve_project(&app, &project).await?;
                let text = if file.as_os_str() == "-" {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    s
                } else {
                    std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?
                };
                let doc: serde_json::Value =
                    serde_json::from_str(&text).context("settings file is not valid JSON")?;
                match app.settings.put(Scope::new(p.id), if_match, doc).await {
                    Ok(view) => eprintln!("stored version {}", view.version),
                    Err(skvoz_app::AppError::Invalid { field, message }) => {
                        anyhow::bail!(
                            "invalid settings at '{}': {message}",
                            field.unwrap_or_default()
                        )
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        },
        Command::User(UserCommand::Create { login, admin, data }) => {
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let password = match std::env::var("SKVOZ_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let user = app.auth.create_user(&login, &password, admin).await?;
            print_json(
                &serde_json::json!({"user_id": user.id.0, "login": user.login, "is_admin": user.is_admin}),
            )?;
        }
        Command::Demo {
            data,
            days,
            seed,
            visitors,
        } => {
            let mut config = load_config(cfg, &data, None)?;
            // A bulk load of data that can be generated again: commits wait
            // for the OS, not the disk (this process only; the store keeps
            // its configured durability for `serve`).
            config.durability = "normal".to_owned();
            let app = open_app(&config).await?;
            let password = config
                .admin_password
                .as_ref()
                .map(|p| p.expose_secret().to_owned());
            let options = skvoz_app::demo::DemoOptions {
                days,
                seed,
                visitors,
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let progress = Progress::new("demo", "visitors", u64::from(visitors));
            let generated = skvoz_app::demo::generate(&app, &options, &|done, total| {
                progress.update(done, total)
            })
            .await;
            progress.finish();
            let (project, stats) = match generated {
                Ok(done) => done,
                Err(skvoz_app::AppError::Conflict(_)) => anyhow::bail!(
                    "a project named 'demo' already exists in {}",
                    config.store_url()
                ),
                Err(e) => return Err(e.into()),
            };
            let admin = skvoz_app::demo::ensure_admin(&app, password.as_deref()).await?;
            app.shutdown().await?;
            print_json(&project)?;
            eprintln!(
                "demo: {} visitors, {} visits, {} hits, {} leads, {} deals ({} won), {} daily cost rows, {} chat dialogs, {} tickets, {} survey answers over the {} days before {} in {:.1} s",
                stats.visitors,
                stats.visits,
                stats.hits,
                stats.leads,
                stats.deals,
                stats.won,
                stats.cost_rows,
                stats.dialogs,
                stats.tickets,
                stats.survey_answers,
                options.days,
                options.end,
                started.elapsed().as_secs_f64()
            );
            if let Some((login, password)) = admin {
                eprintln!("Dashboard login: {login} / {password}   (shown once)");
            }
        }
        Command::Import(ImportCommand::Costs {
            file,
            project,
            data,
        }) => {
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            let p = resolve_project(&app, &project).await?;
            let bytes = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf)?;
                buf
            } else {
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?
            };
            let lines = skvoz_connectors::costs::parse_csv(&bytes)
                .with_context(|| format!("in {}", file.display()))?;
            let ctx = app.contexts.by_id(p.id).await?;
            let progress = Progress::new("costs", "daily rows", 0);
            let done = app
                .costs
                .import_lines(&ctx, lines, &|done, total| progress.update(done, total))
                .await;
            progress.finish();
            let done = done?;
            app.shutdown().await?;
            print_json(&done)?;
        }
        Command::Report(cmd) => {
            let mut params = skvoz_app::reports::ReportParams::default();
            let (kind, args) = match cmd {
                ReportCommand::Channels { args, sort } => {
                    params.sort = sort;
                    ("channels", args)
                }
                ReportCommand::Dynamics {
                    args,
                    metric,
                    granularity,
                } => {
                    params.metric = metric;
                    params.granularity = granularity;
                    ("dynamics", args)
                }
                ReportCommand::Funnel { args } => ("funnel", args),
                ReportCommand::Paths { args, conversion } => {
                    params.conversion = conversion;
                    ("paths", args)
                }
            };
            params.from = args.from;
            params.to = args.to;
            params.model = args.model;
            params.group_by = args.group_by;
            params.date_mode = args.date_mode;
            params.compare_from = args.compare_from;
            params.compare_to = args.compare_to;
            let format = match args.format.as_deref() {
                Some(f @ ("table" | "csv" | "json")) => f.to_owned(),
                Some(other) => anyhow::bail!("--format is table, csv or json, not {other}"),
                None => {
                    use std::io::IsTerminal;
                    if std::io::stdout().is_terminal() {
                        "table"
                    } else {
                        "json"
                    }
                    .to_owned()
                }
            };
            let app = open_app(&load_config(cfg, &args.data, None)?).await?;
            let p = resolve_project(&app, &args.project).await?;
            let ctx = app.contexts.by_id(p.id).await?;
            let report = match kind {
                "channels" => app.reports.channels(&ctx, &params).await,
                "dynamics" => app.reports.dynamics(&ctx, &params).await,
                "paths" => app.reports.paths(&ctx, &params).await,
                _ => app.reports.funnel(&ctx, &params).await,
            };
            app.shutdown().await?;
            let report = report?;
            match format.as_str() {
                "csv" => print_out(&report.csv())?,
                "table" => print_out(&report.table())?,
                _ => print_json(&report.json)?,
            }
        }
        Command::Backup { dest, data } => {
            let app = open_app(&load_config(cfg, &data, None)?).await?;
            app.backup(&dest).await?;
            eprintln!("backup written to {}", dest.display());
        }
        Command::Callpool(cmd) => callpool::callpool(cfg, cmd).await?,
        Command::Calls(cmd) => callpool::calls(cfg, cmd).await?,
        Command::Outbox(cmd) => outbox::outbox(cfg, cmd).await?,
    }
    Ok(())
}

/// Progress of a long command on stderr: a bar on a terminal, a line every
/// few seconds otherwise (logs, CI).
struct Progress {
    label: &'static str,
    unit: &'static str,
    bar: Option<indicatif::ProgressBar>,
    last_line: std::sync::Mutex<std::time::Instant>,
}

impl Progress {
    fn new(label: &'static str, unit: &'static str, total: u64) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{spinner}} {label} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}} left)"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            label,
            unit,
            bar,
            last_line: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }

    fn update(&self, done: u64, total: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None => {
                let Ok(mut last) = self.last_line.lock() else {
                    return;
                };
                if last.elapsed() >= std::time::Duration::from_secs(5) || done == total {
                    *last = std::time::Instant::now();
                    eprintln!("{}: {done}/{total} {}", self.label, self.unit);
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
