//! Three phones dial room 800 on the real server; each hears the other two, not itself.
//!
//! Tones 790/1190/1780 Hz: no sum, difference, harmonic or 3rd-order product of any two
//! (after G.711 companding, aliased at 8 kHz) lands within 190 Hz of the third.

mod support;

use support::conference::talk_and_check;
use support::{Codec, Server};

#[test]
fn three_pcmu_phones_hear_each_other_not_themselves() {
    let server = Server::start();
    talk_and_check(
        &server,
        &[
            (790.0, Codec::Pcmu),
            (1190.0, Codec::Pcmu),
            (1780.0, Codec::Pcmu),
        ],
    );
}
