//! A shared dial-in number (`[dialin] shared_numbers = ["8000"]`): the PIN entered there
//! selects the room. B enters room 800's PIN at 8000 and talks with A (who dialled 800);
//! C enters room 900's PIN at 8000 and is not heard in room 800.

mod support;

use std::time::Duration;
use support::pin::{Heard, PROMPT_TIME, dial_established, wait_joined};
use support::{Phone, PhoneConfig, Server, ServerOptions};

const A_HZ: f64 = 790.0;
const B_HZ: f64 = 1190.0;
const C_HZ: f64 = 1780.0;

#[test]
fn the_pin_entered_at_the_shared_number_selects_the_room() {
    let server = Server::start_with(
        &ServerOptions::default()
            .room_with_pin("800", "4711")
            .room_with_pin("900", "5555")
            .config("[dialin]\nshared_numbers = [\"8000\"]"),
    );
    let mut a = Phone::start(PhoneConfig::new("a", A_HZ));
    let mut b = Phone::start(PhoneConfig::new("b", B_HZ));
    let mut c = Phone::start(PhoneConfig::new("c", C_HZ));

    dial_established(&mut a, &server.uri("800"));
    dial_established(&mut b, &server.uri("8000"));
    dial_established(&mut c, &server.uri("8000"));
    std::thread::sleep(PROMPT_TIME); // the "enter PIN" prompts start
    a.send_dtmf("4711#");
    b.send_dtmf("4711#");
    c.send_dtmf("5555#");
    wait_joined(&server, Some("800"), 2);
    wait_joined(&server, Some("900"), 1);
    std::thread::sleep(Duration::from_secs(4)); // talk time
    for p in [&mut a, &mut b, &mut c] {
        p.hangup();
    }

    let all = [A_HZ, B_HZ, C_HZ];
    let ha = Heard::read("phone a (800, 790 Hz) heard", &a.heard_wav());
    let hb = Heard::read("phone b (8000 → 800, 1190 Hz) heard", &b.heard_wav());
    let hc = Heard::read("phone c (8000 → 900, 1780 Hz) heard", &c.heard_wav());
    for h in [&ha, &hb, &hc] {
        eprintln!("{}", h.describe(&all));
    }
    let mut failures = Vec::new();
    let mut check = |r: Result<f64, String>| {
        if let Err(e) = r {
            failures.push(e);
        }
    };
    check(ha.expect_tone(B_HZ, 0.5));
    check(hb.expect_tone(A_HZ, 0.5));
    let mut check_none = |r: Result<(), String>| {
        if let Err(e) = r {
            failures.push(e);
        }
    };
    check_none(ha.expect_no_tone(C_HZ, 0.05));
    check_none(hb.expect_no_tone(C_HZ, 0.05));
    check_none(hc.expect_no_tone(A_HZ, 0.05));
    check_none(hc.expect_no_tone(B_HZ, 0.05));
    if !failures.is_empty() {
        eprintln!("{}", server.log_tail(60));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for p in [&mut a, &mut b, &mut c] {
        p.quit();
    }
}
