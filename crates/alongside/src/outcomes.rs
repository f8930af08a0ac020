//! `alongside import …` and `alongside evaluate --database …`: wiring between the command line,
//! the store's utilisation import and evaluation inputs, and the stats crate. No SQL here.

use crate::{open, redact, ImportCommand, ImportFileArgs};
use alongside_core::PersonId;
use alongside_stats::{Day, EvalOptions, Sex};
use alongside_store::outcomes::{
    FileFormat, ImportError, OutcomeInputs, PopulationMeasurement, PopulationRow, Requester, Window,
};
use alongside_store::people::Source;
use alongside_store::Store;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// The organisation named, or the only one.
pub async fn find_org(
    store: &Store,
    name: Option<&str>,
) -> Result<(alongside_core::OrgId, String)> {
    let orgs = store.organisations().await?;
    let org = match (name, orgs.len()) {
        (Some(name), _) => orgs
            .iter()
            .find(|o| o.name == name)
            .with_context(|| format!("there is no organisation called {name:?}"))?,
        (None, 1) => &orgs[0],
        (None, 0) => bail!("there is no organisation yet"),
        (None, _) => bail!("there are several organisations: say which with --organisation"),
    };
    Ok((org.id, org.name.clone()))
}

pub fn parse_day(s: &str, what: &str) -> Result<Day> {
    Day::parse_iso(s.trim().as_bytes())
        .with_context(|| format!("{what} must be a date written YYYY-MM-DD, found {s:?}"))
}

/// The window from optional --from/--to (default: the last full 12 months before today).
pub fn window(from: Option<&str>, to: Option<&str>, today: Day) -> Result<Window> {
    let default = Window::last_full_year(today);
    let w = Window {
        from: from
            .map(|f| parse_day(f, "--from"))
            .transpose()?
            .unwrap_or(default.from),
        to: to
            .map(|t| parse_day(t, "--to"))
            .transpose()?
            .unwrap_or(default.to),
    };
    if w.to < w.from {
        bail!("--to ({}) is before --from ({})", w.to, w.from);
    }
    Ok(w)
}

/// Today in Europe/London, by the application's clock.
pub fn today(clock: &alongside_store::clock::Clock) -> Day {
    let d = clock.today();
    Day::from_ymd(d.year(), u32::from(d.month() as u8), u32::from(d.day()))
        .expect("a calendar date is a day")
}

/// The population statement for a report built from the store.
pub fn population_label(org_name: &str, inputs: &OutcomeInputs) -> String {
    let x = &inputs.excluded;
    format!(
        "people registered with {org_name} ({} registered) with a scored activation questionnaire by {} and complete covariates; not included: {} with no scored questionnaire by then, {} with sex recorded as other or not known, {} with no deprivation decile, {} with no long-term condition recorded, {} aged under 18 or over 120",
        inputs.people_registered,
        inputs.window.to,
        x.no_activation,
        x.sex_not_female_or_male,
        x.no_deprivation_decile,
        x.no_long_term_condition,
        x.age_outside_18_120
    )
}

#[allow(clippy::too_many_arguments)]
pub async fn evaluate_database(
    url: &str,
    organisation: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    format: &str,
    suppress: u64,
    output: Option<&std::path::Path>,
    population: Option<String>,
) -> Result<()> {
    let store = open(url).await?;
    let w = window(from, to, today(store.clock()))?;
    let (org, org_name) = find_org(&store, organisation).await?;
    let started = std::time::Instant::now();
    store
        .audit_evaluation(
            org,
            &Requester::System("cli"),
            w,
            "command line",
            Source::default(),
        )
        .await?;
    let inputs = store.outcome_inputs(org, w, false).await?;
    let loaded = started.elapsed();
    let opts = EvalOptions {
        suppress: (suppress > 0).then_some(suppress),
        population_label: Some(population.unwrap_or_else(|| population_label(&org_name, &inputs))),
        study_period: Some((w.from, w.to)),
        ..Default::default()
    };
    let report = tokio::task::spawn_blocking(move || {
        alongside_stats::evaluate_records(&inputs.records, Some(&inputs.measurements), &opts)
    })
    .await?
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "{}: window {} to {}; {} periods; data read in {:.2} s, total {:.2} s",
        redact(url),
        w.from,
        w.to,
        report.population.periods,
        loaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
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

pub async fn import_command(command: ImportCommand) -> Result<std::process::ExitCode> {
    match command {
        ImportCommand::Events(args) => return import_file(FileFormat::Csv, args).await,
        ImportCommand::Encounters(args) => return import_file(FileFormat::Fhir, args).await,
        ImportCommand::SynthPeople {
            dir,
            organisation,
            db,
        } => {
            synth_people(&dir, &organisation, &db.url).await?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `import events` (CSV) and `import encounters` (FHIR): the same report, rows called lines or
/// entries.
async fn import_file(format: FileFormat, args: ImportFileArgs) -> Result<std::process::ExitCode> {
    let ImportFileArgs {
        file,
        organisation,
        source,
        db,
    } = args;
    let (file, url) = (file.as_path(), db.url.as_str());
    let (row, rows) = match format {
        FileFormat::Csv => ("line", "rows"),
        FileFormat::Fhir => ("entry", "entries"),
    };
    let bytes =
        std::fs::read(file).with_context(|| format!("could not read {}", file.display()))?;
    let store = open(url).await?;
    let (org, org_name) = find_org(&store, organisation.as_deref()).await?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let source = source.as_deref().unwrap_or(&name);
    let imported = store
        .import_events_file(
            org,
            Requester::System("cli"),
            format,
            &name,
            source,
            bytes,
            Source::default(),
        )
        .await;
    let r = match imported {
        Ok(r) => r,
        Err(ImportError::Store(e)) => return Err(e.into()),
        Err(e) => bail!("{}: {e}", file.display()),
    };
    let secs = started.elapsed().as_secs_f64();
    for x in &r.rejected {
        eprintln!("{}: {row} {}: {}", file.display(), x.line, x.reason);
    }
    if r.rows_rejected > r.rejected.len() as u64 {
        eprintln!(
            "… and {} more rejected {rows}",
            r.rows_rejected - r.rejected.len() as u64
        );
    }
    if r.already_imported {
        println!(
            "Already imported: {} (sha256 {}) was imported into {org_name} before as {}; nothing changed.",
            file.display(),
            r.sha256,
            r.import_id
        );
    } else {
        println!(
            "Imported {} events from {} into {org_name} ({} {rows} read, {} rejected{}) in {secs:.1} s ({:.0} events/s); import {}",
            r.events_imported,
            file.display(),
            r.rows_read,
            r.rows_rejected,
            if format == FileFormat::Fhir {
                format!(", {} skipped as not counted events", r.rows_skipped)
            } else {
                String::new()
            },
            r.events_imported as f64 / secs.max(1e-9),
            r.import_id
        );
        for (kind, n) in &r.skipped {
            println!("  skipped: {n} × {kind}");
        }
    }
    if r.rows_rejected > 0 && !r.already_imported {
        return Ok(std::process::ExitCode::from(2));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// A record id for a synthetic person id, deterministic and random-looking (so stored ids are
/// not in the same order as the files).
fn synth_uuid(pid: &str) -> PersonId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pid.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mix = |x: u64| {
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let a = mix(h);
    let b = mix(a);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    PersonId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

async fn synth_people(dir: &std::path::Path, organisation: &str, url: &str) -> Result<()> {
    let started = std::time::Instant::now();
    let people_f =
        std::io::BufReader::new(std::fs::File::open(dir.join("people.csv")).context("people.csv")?);
    let mut people: Vec<PopulationRow> = Vec::new();
    let mut ids: HashMap<String, PersonId> = HashMap::new();
    let practices = [
        "Riverside Surgery",
        "Millbrook Medical Centre",
        "Canal Street Practice",
        "Northgate Health Centre",
    ];
    for (i, line) in people_f.lines().enumerate() {
        let line = line?;
        if i == 0 || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 8 {
            bail!("people.csv line {}: expected 8 fields", i + 1);
        }
        if ids.contains_key(f[0]) {
            continue; // a later period of the same person
        }
        let id = synth_uuid(f[0]);
        ids.insert(f[0].to_string(), id);
        let age: i32 = f[1].parse()?;
        let start = parse_day(f[6], "follow_up_start")?;
        people.push(PopulationRow {
            id,
            // Born half a year before their birthday at the start of their first period.
            date_of_birth: Day(start.0 - (f64::from(age) * 365.25) as i32 - 182),
            sex: if f[2] == "female" {
                Sex::Female
            } else {
                Sex::Male
            },
            deprivation_decile: f[3].parse()?,
            ltc_count: f[4].parse()?,
            gp_practice: Some(practices[people.len() % practices.len()].to_string()),
        });
    }
    let mut ms = Vec::new();
    let mf = std::io::BufReader::new(
        std::fs::File::open(dir.join("measurements.csv")).context("measurements.csv")?,
    );
    for (i, line) in mf.lines().enumerate() {
        let line = line?;
        if i == 0 || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let Some(id) = ids.get(f[0]) else { continue };
        ms.push(PopulationMeasurement {
            person_id: *id,
            day: parse_day(f[1], "measurement date")?,
            score: f[2].parse()?,
            level: f[3].parse()?,
        });
    }
    eprintln!(
        "read {} people and {} measurements in {:.1} s",
        people.len(),
        ms.len(),
        started.elapsed().as_secs_f64()
    );
    // events-store.csv: the same events with record ids.
    {
        let ef = std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(dir.join("events.csv")).context("events.csv")?,
        );
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(dir.join("events-store.csv"))?,
        );
        let text_ids: HashMap<&str, String> =
            ids.iter().map(|(k, v)| (k.as_str(), v.as_text())).collect();
        for (i, line) in ef.lines().enumerate() {
            let line = line?;
            if i == 0 {
                writeln!(out, "{line}")?;
                continue;
            }
            match line.split_once(',') {
                Some((pid, rest)) => match text_ids.get(pid) {
                    Some(u) => writeln!(out, "{u},{rest}")?,
                    None => writeln!(out, "{line}")?,
                },
                None => writeln!(out, "{line}")?,
            }
        }
        out.flush()?;
    }
    eprintln!(
        "wrote events-store.csv after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let store = open(url).await?;
    let org = alongside_web::setup::create_organisation(&store, organisation, "synthetic").await?;
    let ins = store
        .instruments(org)
        .await?
        .into_iter()
        .find(|i| i.active && i.key == "alongside-demo-activation")
        .context("the shipped demo instrument is missing")?;
    let keys: Vec<String> = alongside_core::conditions::CONDITIONS
        .iter()
        .map(|c| c.key.to_string())
        .collect();
    let n = people.len();
    let t = std::time::Instant::now();
    store.load_population(org, ins.id, people, ms, keys).await?;
    println!(
        "Loaded {n} synthetic people into {organisation:?} in {:.1} s; now run: alongside import events {} --organisation {organisation:?} --database {}",
        t.elapsed().as_secs_f64(),
        dir.join("events-store.csv").display(),
        redact(url)
    );
    Ok(())
}
