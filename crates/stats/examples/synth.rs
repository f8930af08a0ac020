//! Writes a synthetic population: `synth PEOPLE SEED OUTDIR` → people.csv, events.csv,
//! measurements.csv in OUTDIR.
use std::fs::File;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: synth PEOPLE SEED OUTDIR");
        std::process::exit(2);
    }
    let n: usize = args[1].parse()?;
    let seed: u64 = args[2].parse()?;
    let dir = std::path::Path::new(&args[3]);
    std::fs::create_dir_all(dir)?;
    let s = alongside_stats::synth::generate(
        n,
        seed,
        &alongside_stats::synth::SynthOptions::default(),
        File::create(dir.join("people.csv"))?,
        File::create(dir.join("events.csv"))?,
        Some(File::create(dir.join("measurements.csv"))?),
    )?;
    eprintln!("{s:?}");
    Ok(())
}
