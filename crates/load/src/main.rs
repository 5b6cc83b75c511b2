//! The `konferenz-load` binary: parses the command line, runs, prints the report, and
//! exits 1 when more calls failed than `--max-failures` allows.

use clap::Parser;
use konferenz_load::Cli;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let json = cli.json;
    let config = cli.into_config();
    let max_failures = config.max_failures;
    let report = konferenz_load::run(config)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    if report.failures > max_failures {
        eprintln!(
            "konferenz-load: {} failures (allowed {max_failures})",
            report.failures
        );
        std::process::exit(1);
    }
    Ok(())
}
