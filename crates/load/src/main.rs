//! The `konferenz-load` binary: parses the command line, runs, prints the report, and
//! exits 1 when more calls (or, for `events`, more events and requests) failed than
//! `--max-failures` allows.

use clap::Parser;
use konferenz_load::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let json = cli.json;
    if let Command::Events(args) = cli.command {
        let max_failures = args.max_failures;
        let report = konferenz_load::events::run(args)?;
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
        return Ok(());
    }
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
