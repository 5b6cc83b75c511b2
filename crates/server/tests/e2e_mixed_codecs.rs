//! One PCMA and two PCMU phones in room 800: the server transcodes and mixes sum − own.

mod support;

use support::conference::talk_and_check;
use support::{Codec, Server};

#[test]
fn pcma_and_pcmu_phones_hear_each_other_not_themselves() {
    let server = Server::start();
    talk_and_check(
        &server,
        &[
            (790.0, Codec::Pcma),
            (1190.0, Codec::Pcmu),
            (1780.0, Codec::Pcmu),
        ],
    );
}
