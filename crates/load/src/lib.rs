//! konferenz-load: a load generator for the konferenz server. Places (or answers) many SIP
//! calls over UDP with the workspace's SIP endpoint, streams pre-encoded G.711 on absolute
//! 20 ms deadlines through a few shared sockets (sendmmsg/recvmmsg), and reports call set-up,
//! loss, lateness of the server's frames, bridge delay (tone bursts) and its own lateness;
//! `events` measures the HTTP API's event streams and latency instead.

pub mod audio;
pub mod config;
pub mod events;
pub mod janus;
pub mod marker;
pub mod net;
pub mod report;
pub mod run;
pub mod rx;
pub mod session;
pub mod sip;
pub mod stats;
pub mod watch;

pub use config::{Cli, Command, Config, Mode};
pub use report::Report;
pub use run::Runner;

/// Runs a whole load test with `config` and returns its report.
pub fn run(config: Config) -> std::io::Result<Report> {
    Runner::new(config)?.run()
}
