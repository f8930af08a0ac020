//! Evaluates files: `evaluate_files DIR [json|csv|html] [SUPPRESS|none]` reads DIR/people.csv,
//! DIR/events.csv and DIR/measurements.csv (if present) and prints the report.
use std::fs::File;
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(args.get(1).map(String::as_str).unwrap_or("."));
    let format = args.get(2).map(String::as_str).unwrap_or("json");
    let mut opts = alongside_stats::EvalOptions::default();
    match args.get(3).map(String::as_str) {
        Some("none") => opts.suppress = None,
        Some(t) => opts.suppress = Some(t.parse()?),
        None => {}
    }
    let m = dir.join("measurements.csv");
    let t0 = std::time::Instant::now();
    let report = alongside_stats::evaluate_files(
        File::open(dir.join("people.csv"))?,
        File::open(dir.join("events.csv"))?,
        if m.exists() {
            Some(File::open(m)?)
        } else {
            None
        },
        &opts,
    )?;
    eprintln!("evaluated in {:.3} s", t0.elapsed().as_secs_f64());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        "csv" => report.write_csv(&mut out)?,
        "html" => out.write_all(report.to_html().as_bytes())?,
        _ => report.write_json(&mut out)?,
    }
    Ok(())
}
