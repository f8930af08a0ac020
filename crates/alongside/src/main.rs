//! `alongside`: the one binary. Subcommands run the web service, seed the demo, apply
//! migrations, manage accounts, verify the audit chain, import and evaluate. (The load generator
//! for `BENCHMARKS.md` is a separate binary, `crates/loadgen`.)
//!
//! This file only parses arguments and calls the library crates; it holds no domain rules
//! and no SQL.

mod demo;
mod demo_education;
mod demo_groups;
mod demo_plans;
mod outcomes;

use alongside_core::{PersonId, Role};
use alongside_store::users::NewUser;
use alongside_store::Store;
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::{Read, Write};
use std::net::SocketAddr;

#[derive(Parser)]
#[command(
    name = "alongside",
    version,
    about = "Alongside: supported self-management for people with long-term conditions",
    long_about = "Alongside helps health services run supported self-management: measuring activation, \
health coaching, self-management education and peer support, and showing what changed.\n\n\
Start with `alongside demo` to try it with synthetic data, or `alongside serve` to run it on your own database.\n\
Every option can also be set by an ALONGSIDE_* environment variable, shown in [env: …]."
)]
struct Cli {
    /// Log filter, e.g. `info` or `alongside_web=debug`.
    #[arg(long, env = "ALONGSIDE_LOG", default_value = "info", global = true)]
    log: String,
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(
        long,
        env = "ALONGSIDE_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long = "database",
        env = "ALONGSIDE_DATABASE_URL",
        default_value = "sqlite://alongside.db"
    )]
    url: String,
}

#[derive(Args, Clone)]
struct WebArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "ALONGSIDE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Mark cookies Secure and send HSTS: set this when Alongside is served over HTTPS.
    #[arg(long, env = "ALONGSIDE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Trust X-Forwarded-For for the client address (only behind your own reverse proxy).
    #[arg(long, env = "ALONGSIDE_TRUST_PROXY")]
    trust_proxy: bool,
    /// The address people reach Alongside at, e.g. https://alongside.example.nhs.uk, for links
    /// given out (calendar feeds). When unset, taken from each request's Host header.
    #[arg(long, env = "ALONGSIDE_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web service (applies migrations first).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        web: WebArgs,
    },
    /// Create (or reuse) a demo database full of synthetic people, print the sign-ins, and serve.
    Demo {
        /// Database URL for the demo.
        #[arg(
            long = "database",
            env = "ALONGSIDE_DATABASE_URL",
            default_value = "sqlite://alongside-demo.db"
        )]
        url: String,
        #[command(flatten)]
        web: WebArgs,
        /// How many synthetic people to create in a new demo database.
        #[arg(long, env = "ALONGSIDE_DEMO_PEOPLE", default_value_t = 2000)]
        people: usize,
        /// Seed for the synthetic data: the same seed gives the same people.
        #[arg(long, env = "ALONGSIDE_DEMO_SEED", default_value_t = 20261122)]
        seed: u64,
        /// Create the demo data, print the sign-ins, and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Score a CSV of questionnaire answers with an instrument definition (no database needed).
    Score {
        /// The instrument definition (JSON; see docs/instruments.md).
        #[arg(long)]
        instrument: std::path::PathBuf,
        /// CSV: first column a respondent id, then one column per item link id holding answer codes.
        #[arg(long)]
        responses: std::path::PathBuf,
        /// Where to write the scored CSV (default: standard output).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Utilisation of care by activation level: crude rates and adjusted rate ratios (Poisson
    /// with cluster-robust errors, negative binomial), from CSV files or from the database
    /// (see docs/outcomes.md).
    Evaluate {
        /// Observation periods: person_id,age,sex,deprivation_decile,ltc_count,activation_level,follow_up_start,follow_up_end
        #[arg(
            long,
            required_unless_present = "database",
            conflicts_with = "database"
        )]
        people: Option<std::path::PathBuf>,
        /// Utilisation events: person_id,date,type,minor
        #[arg(
            long,
            required_unless_present = "database",
            conflicts_with = "database"
        )]
        events: Option<std::path::PathBuf>,
        /// Optional activation measurements (person_id,date,score,level) for the change section.
        #[arg(long, conflicts_with = "database")]
        measurements: Option<std::path::PathBuf>,
        /// Evaluate from this database instead of files: one observation period per person over
        /// the window (--from, --to), from the store's people, questionnaires and utilisation.
        #[arg(long)]
        database: Option<String>,
        /// With --database: the organisation; may be left out when there is only one.
        #[arg(long, requires = "database")]
        organisation: Option<String>,
        /// With --database: first day of the window (YYYY-MM-DD); default: the last full 12 months.
        #[arg(long, requires = "database")]
        from: Option<String>,
        /// With --database: last day of the window (YYYY-MM-DD), inclusive.
        #[arg(long, requires = "database")]
        to: Option<String>,
        /// Output format.
        #[arg(long, value_parser = ["json", "csv", "html"], default_value = "json")]
        format: String,
        /// Small-number suppression: counts from 1 to this (and rates from them) are withheld.
        /// `0` turns suppression off (internal analysis only, never for publication).
        #[arg(long, default_value_t = alongside_stats::DEFAULT_THRESHOLD)]
        suppress: u64,
        /// Where to write the report (default: standard output).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        /// Who the population is, stated in the report.
        #[arg(long)]
        population: Option<String>,
    },
    /// Import data into the database.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Write a synthetic population (people.csv, events.csv, measurements.csv) with known effects.
    Synth {
        /// How many people.
        #[arg(long)]
        people: usize,
        /// Random seed: the same seed gives the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder to write the files into (created if missing).
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
    },
    /// Load and list instrument definitions in the database.
    Instrument {
        #[command(subcommand)]
        command: InstrumentCommand,
    },
}

/// The arguments of `import events` and `import encounters`.
#[derive(Args)]
struct ImportFileArgs {
    /// The file: CSV for `import events`; a FHIR Bundle or NDJSON for `import encounters`.
    file: std::path::PathBuf,
    /// Organisation name; may be left out when there is only one.
    #[arg(long)]
    organisation: Option<String>,
    /// Where the data came from, e.g. "practice extract 2025-Q4" (default: the file name).
    #[arg(long)]
    source: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Utilisation events from a CSV file `person_id,date,type,minor` (person_id: the person's
    /// record id, a UUID, or their 10-digit NHS number). Importing the same file again changes
    /// nothing; bad rows are skipped and listed by line with the reason, the good rows imported
    /// in one transaction. Exits 2 when rows were rejected.
    Events(ImportFileArgs),
    /// Utilisation events from FHIR R4 resources: a Bundle (JSON, any type) or NDJSON (one
    /// resource per line, as from a Bulk Data export) of Encounters (attendances and emergency
    /// admissions) and Appointments with status noshow (missed appointments); the mapping is in
    /// docs/outcomes.md, "Importing FHIR Encounters". Same guarantees as `import events`: bad
    /// entries listed by number (Bundle entry from 1, NDJSON line) with the reason; cancelled,
    /// planned and elective resources are skipped and counted. Exits 2 when entries were rejected.
    Encounters(ImportFileArgs),
    /// Benchmarks and tests only: load a synthetic population written by `alongside synth`
    /// (DIR/people.csv, DIR/measurements.csv) as people with scored questionnaires, and write
    /// DIR/events-store.csv, the events with record ids, ready for `import events`.
    SynthPeople {
        dir: std::path::PathBuf,
        /// Organisation to create for it.
        #[arg(long, default_value = "Synthetic population")]
        organisation: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum InstrumentCommand {
    /// Load a definition into an organisation (a new version becomes the one in use).
    Import {
        /// The instrument definition (JSON).
        file: std::path::PathBuf,
        /// Organisation name; may be left out when there is only one.
        #[arg(long)]
        organisation: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List the instruments loaded in every organisation.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add an account. The password comes from ALONGSIDE_PASSWORD or, with --password-stdin, standard input.
    Add {
        /// The name they sign in with.
        username: String,
        /// administrator, coordinator, health_coach, educator, peer_support_lead, volunteer, analyst or person.
        #[arg(long, env = "ALONGSIDE_USER_ROLE")]
        role: String,
        /// Their full name as shown on pages (defaults to the user name).
        #[arg(long, env = "ALONGSIDE_USER_NAME")]
        name: Option<String>,
        /// Organisation to add them to; created if there is none yet.
        #[arg(
            long,
            env = "ALONGSIDE_ORGANISATION",
            default_value = "My organisation"
        )]
        organisation: String,
        /// For a person's own account: the id of their record.
        #[arg(long, env = "ALONGSIDE_USER_PERSON_ID")]
        person_id: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password for an account (signs them out everywhere).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List every account.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every organisation's hash chain; names the first broken entry and exits 1 if any.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

fn init_logging(filter: &str, format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log, &cli.log_format);
    match run(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn open(url: &str) -> Result<Store> {
    Store::open(url)
        .await
        .with_context(|| format!("could not open the database at {}", redact(url)))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn read_password(from_stdin: bool) -> Result<String> {
    let p = if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        std::env::var("ALONGSIDE_PASSWORD")
            .context("set ALONGSIDE_PASSWORD or pass --password-stdin")?
    };
    Ok(p)
}

async fn run(command: Command) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match command {
        Command::Serve { db, web } => {
            let store = open(&db.url).await?;
            serve(store, web).await?;
        }
        Command::Demo {
            url,
            web,
            people,
            seed,
            no_serve,
        } => {
            let store = open(&url).await?;
            demo::ensure(&store, people, seed).await?;
            demo::print_sign_ins();
            if !no_serve {
                serve(store, web).await?;
            }
        }
        Command::Migrate { db } => {
            open(&db.url).await?;
            println!("Migrations applied to {}", redact(&db.url));
        }
        Command::User { command } => return user_command(command).await,
        Command::Audit {
            command: AuditCommand::Verify { db },
        } => {
            let store = open(&db.url).await?;
            let report = store.verify_audit().await?;
            let mut total = 0;
            for (org, result) in &report.organisations {
                match result {
                    Ok(n) => total += n,
                    Err(e) => println!("Audit chain BROKEN for organisation {org}: {e}"),
                }
            }
            if report.ok() {
                println!(
                    "Audit chain intact: {total} entries in {} organisation{}",
                    report.organisations.len(),
                    if report.organisations.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                );
            } else {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Score {
            instrument,
            responses,
            output,
        } => return score(&instrument, &responses, output.as_deref()),
        Command::Instrument { command } => instrument_command(command).await?,
        Command::Evaluate {
            people,
            events,
            measurements,
            database,
            organisation,
            from,
            to,
            format,
            suppress,
            output,
            population,
        } => match (database, people, events) {
            (Some(url), _, _) => {
                outcomes::evaluate_database(
                    &url,
                    organisation.as_deref(),
                    from.as_deref(),
                    to.as_deref(),
                    &format,
                    suppress,
                    output.as_deref(),
                    population,
                )
                .await?
            }
            (None, Some(people), Some(events)) => evaluate(
                &people,
                &events,
                measurements.as_deref(),
                &format,
                suppress,
                output.as_deref(),
                population,
            )?,
            _ => bail!("give --people and --events, or --database"),
        },
        Command::Import { command } => return outcomes::import_command(command).await,
        Command::Synth { people, seed, out } => synth(people, seed, &out)?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn user_command(command: UserCommand) -> Result<std::process::ExitCode> {
    match command {
        UserCommand::Add {
            username,
            role,
            name,
            organisation,
            person_id,
            password_stdin,
            db,
        } => {
            let role: Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = read_password(password_stdin)?;
            if let Some(p) = alongside_web::auth::password_problem(&password, &username) {
                bail!("{p}");
            }
            let person_id: Option<PersonId> = match (&person_id, role) {
                (Some(p), Role::Person) => Some(
                    p.parse()
                        .context("--person-id must be a record id (a UUID)")?,
                ),
                (None, Role::Person) => {
                    bail!("a person's own account needs --person-id, the id of their record")
                }
                (Some(_), _) => bail!("--person-id is only for the person role"),
                (None, _) => None,
            };
            let store = open(&db.url).await?;
            let orgs = store.organisations().await?;
            let org = match orgs
                .iter()
                .find(|o| o.name == organisation)
                .or(if orgs.len() == 1 { orgs.first() } else { None })
            {
                Some(o) => o.id,
                None => {
                    alongside_web::setup::create_organisation(&store, &organisation, "organisation")
                        .await?
                }
            };
            let hash = alongside_web::auth::hash_password(password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let new = NewUser {
                org_id: org,
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                role,
                person_id,
                password_hash: hash,
            };
            let id = store
                .create_user_by_system(new, "cli")
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{id}");
        }
        UserCommand::Passwd {
            username,
            password_stdin,
            db,
        } => {
            let password = read_password(password_stdin)?;
            if let Some(p) = alongside_web::auth::password_problem(&password, &username) {
                bail!("{p}");
            }
            let store = open(&db.url).await?;
            let login = store
                .find_login(&username)
                .await?
                .with_context(|| format!("there is no user called {username:?}"))?;
            let hash = alongside_web::auth::hash_password(password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let u = login.user;
            store
                .set_password_by_system(u.org_id, u.id, hash, "cli")
                .await?;
            println!("Password changed for {}", u.username);
        }
        UserCommand::List { db } => {
            let store = open(&db.url).await?;
            let orgs: std::collections::HashMap<_, _> = store
                .organisations()
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect();
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<20} {:<18} {:<8} {:<30} organisation",
                "user name", "role", "status", "name"
            )?;
            for u in store.all_users().await? {
                writeln!(
                    out,
                    "{:<20} {:<18} {:<8} {:<30} {}",
                    u.username,
                    u.role.code(),
                    if u.active { "active" } else { "inactive" },
                    u.display_name,
                    orgs.get(&u.org_id).cloned().unwrap_or_default()
                )?;
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn serve(store: Store, web: WebArgs) -> Result<()> {
    let config = alongside_web::Config {
        secure_cookies: web.secure_cookies,
        trust_proxy: web.trust_proxy,
        public_url: web.public_url.clone(),
        clock: alongside_web::Clock::from_env(),
        ..Default::default()
    };
    let app = alongside_web::app(alongside_web::AppState::new(store.clone(), config));
    let listener = tokio::net::TcpListener::bind(web.listen)
        .await
        .with_context(|| format!("could not listen on {}", web.listen))?;
    let addr = listener.local_addr()?;
    println!("Alongside is listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            if let Ok(mut s) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                s.recv().await;
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
        tracing::info!("shutting down");
    })
    .await?;
    store.close().await;
    Ok(())
}

fn score(
    instrument: &std::path::Path,
    responses: &std::path::Path,
    output: Option<&std::path::Path>,
) -> Result<std::process::ExitCode> {
    let def = std::fs::File::open(instrument)
        .with_context(|| format!("could not open {}", instrument.display()))?;
    let ins = alongside_measure::Instrument::from_json_reader(std::io::BufReader::new(def))
        .map_err(|e| anyhow::anyhow!("{}: {e}", instrument.display()))?;
    let input = std::fs::File::open(responses)
        .with_context(|| format!("could not open {}", responses.display()))?;
    let summary = match output {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("could not create {}", p.display()))?;
            alongside_measure::score_csv(&ins, input, f)
        }
        None => alongside_measure::score_csv(&ins, input, std::io::stdout().lock()),
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", responses.display()))?;
    for e in &summary.row_errors {
        match e.column {
            Some(c) => eprintln!(
                "{}: line {}, column {c}: {}",
                responses.display(),
                e.line,
                e.message
            ),
            None => eprintln!("{}: line {}: {}", responses.display(), e.line, e.message),
        }
    }
    eprintln!(
        "{} rows read: {} scored, {} not scored, {} rejected",
        summary.rows_read, summary.rows_scored, summary.rows_not_scored, summary.rows_rejected
    );
    Ok(if summary.row_errors.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(2)
    })
}

async fn instrument_command(command: InstrumentCommand) -> Result<()> {
    match command {
        InstrumentCommand::Import {
            file,
            organisation,
            db,
        } => {
            let json = std::fs::read_to_string(&file)
                .with_context(|| format!("could not read {}", file.display()))?;
            let ins = alongside_measure::Instrument::from_json_str(&json)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = open(&db.url).await?;
            let orgs = store.organisations().await?;
            let org = match (&organisation, orgs.len()) {
                (Some(name), _) => orgs
                    .iter()
                    .find(|o| &o.name == name)
                    .with_context(|| format!("there is no organisation called {name:?}"))?,
                (None, 1) => &orgs[0],
                (None, 0) => {
                    bail!("there is no organisation yet: add a user first (alongside user add)")
                }
                (None, _) => {
                    bail!("there are several organisations: say which with --organisation")
                }
            };
            let title = ins.title(&ins.definition().languages.default).to_string();
            let (_, created) = store
                .install_instrument(
                    org.id,
                    ins.id(),
                    ins.version(),
                    &title,
                    &json,
                    None,
                    alongside_store::people::Source(Some("cli".into())),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} {} version {} in {}",
                if created { "Loaded" } else { "Already loaded:" },
                ins.id(),
                ins.version(),
                org.name
            );
        }
        InstrumentCommand::List { db } => {
            let store = open(&db.url).await?;
            for o in store.organisations().await? {
                for i in store.instruments(o.id).await? {
                    println!(
                        "{:<32} {:<10} {:<8} {} ({})",
                        i.key,
                        i.version,
                        if i.active { "in use" } else { "earlier" },
                        i.title,
                        o.name
                    );
                }
            }
        }
    }
    Ok(())
}

fn open_file(p: &std::path::Path) -> Result<std::io::BufReader<std::fs::File>> {
    Ok(std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(p).with_context(|| format!("could not open {}", p.display()))?,
    ))
}

fn evaluate(
    people: &std::path::Path,
    events: &std::path::Path,
    measurements: Option<&std::path::Path>,
    format: &str,
    suppress: u64,
    output: Option<&std::path::Path>,
    population: Option<String>,
) -> Result<()> {
    let opts = alongside_stats::EvalOptions {
        suppress: (suppress > 0).then_some(suppress),
        population_label: population,
        ..Default::default()
    };
    let m = measurements.map(open_file).transpose()?;
    let report = alongside_stats::evaluate_files(open_file(people)?, open_file(events)?, m, &opts)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("could not create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        "csv" => report.write_csv(&mut out)?,
        "html" => out.write_all(report.to_html().as_bytes())?,
        _ => report.write_json(&mut out)?,
    }
    out.flush()?;
    Ok(())
}

fn synth(people: usize, seed: u64, out: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))?;
    let create = |name: &str| {
        std::fs::File::create(out.join(name))
            .with_context(|| format!("could not create {}", out.join(name).display()))
    };
    let summary = alongside_stats::synth::generate(
        people,
        seed,
        &alongside_stats::synth::SynthOptions::default(),
        create("people.csv")?,
        create("events.csv")?,
        Some(create("measurements.csv")?),
    )?;
    eprintln!("{summary:?}");
    eprintln!(
        "Wrote people.csv, events.csv and measurements.csv to {}",
        out.display()
    );
    Ok(())
}
