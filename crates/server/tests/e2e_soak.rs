//! A long call (run by hand): three phones talk for `KONFERENZ_SOAK_SECS` (default 300)
//! seconds; every phone must hear both others without a single 20 ms drop-out, and not
//! itself. `cargo test -p konferenz-server --test e2e_soak -- --ignored --nocapture`.

mod support;

use std::time::Duration;

use support::conference::talk_and_check_for;
use support::{Codec, Server};

#[test]
#[ignore = "minutes long; run by hand"]
fn long_call_has_no_dropouts() {
    let secs = std::env::var("KONFERENZ_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let server = Server::start();
    talk_and_check_for(
        &server,
        &[
            (790.0, Codec::Pcmu),
            (1190.0, Codec::Pcma),
            (1780.0, Codec::Pcmu),
        ],
        Duration::from_secs(secs),
    );
}
