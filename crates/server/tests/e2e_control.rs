//! Conference control with real phones: a locked conference turns new dial-ins away (they
//! hear why and are hung up) and lets them in again once unlocked; a room-wide mute also
//! mutes whoever joins later; `participants --follow` shows a caller in the menu and the
//! join as they happen (server-sent events, not polling).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::audio::{fraction_between, read_wav};
use support::{Phone, PhoneConfig, Server, ServerOptions, poll_until};

const SETUP: Duration = Duration::from_secs(10);

/// The call id `participants` lists for `name` in `state`.
fn call_of(server: &Server, name: &str, state: &str) -> String {
    let mut last = String::new();
    poll_until(SETUP, || {
        last = server.cli(&["participants", "--room", "800"]);
        last.lines()
            .find(|l| l.contains(&format!("  {name}  {state}")))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned)
    })
    .unwrap_or_else(|| panic!("{name} not listed as {state}: {last}"))
}

#[test]
fn a_locked_conference_turns_dial_ins_away_until_it_is_unlocked() {
    let server = Server::start();
    let mut host = Phone::start(PhoneConfig::new("host", 790.0));
    host.dial(&server.uri("800"));
    host.wait_established(SETUP);
    call_of(&server, "host", "connected");

    assert_eq!(
        server.cli(&["room", "lock", "--number", "800"]),
        "room 800 locked\n"
    );
    let mut late = Phone::start(PhoneConfig::new("late", 1190.0));
    late.dial(&server.uri("800"));
    // Answered to hear "this conference is locked", then hung up by the server.
    late.wait_established(SETUP);
    let closed = late.wait_closed(Duration::from_secs(20));
    assert!(
        !closed.to_string().contains("403"),
        "hung up after the prompt, not refused: {closed}"
    );
    let (rate, heard) = read_wav(&late.heard_wav()).unwrap();
    let seconds = heard.len() as f64 / f64::from(rate);
    let loud = heard.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(
        seconds > 1.0 && loud > rate as usize / 4,
        "the caller heard the lock prompt: {seconds:.1} s, {loud} loud samples"
    );
    let list = server.cli(&["participants", "--room", "800"]);
    assert!(!list.contains("late  connected"), "{list}");

    assert_eq!(
        server.cli(&["room", "unlock", "--number", "800"]),
        "room 800 unlocked\n"
    );
    late.dial(&server.uri("800"));
    late.wait_established(SETUP);
    call_of(&server, "late", "connected");
    late.hangup();
    host.hangup();
    late.quit();
    host.quit();
}

#[test]
fn locking_a_room_without_a_conference_is_refused() {
    let server = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_konferenz"))
        .args(["--config", server.config.to_str().unwrap()])
        .args(["room", "lock", "--number", "800"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no conference is running in room 800"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_room_wide_mute_also_mutes_a_later_joiner() {
    let server = Server::start();
    let mut host = Phone::start(PhoneConfig::new("host", 790.0));
    let mut anna = Phone::start(PhoneConfig::new("anna", 1190.0));
    host.dial(&server.uri("800"));
    anna.dial(&server.uri("800"));
    host.wait_established(SETUP);
    anna.wait_established(SETUP);
    let host_call = call_of(&server, "host", "connected");
    call_of(&server, "anna", "connected");
    let out = server.cli(&["mute", "--room", "800", "--all-but", &host_call]);
    assert!(out.starts_with("room 800: muted calls "), "{out}");

    let mut bert = Phone::start(PhoneConfig::new("bert", 1780.0));
    bert.dial(&server.uri("800"));
    bert.wait_established(SETUP);
    call_of(&server, "bert", "connected (muted)");
    std::thread::sleep(Duration::from_secs(4)); // talk time, not synchronisation
    for p in [&mut host, &mut anna, &mut bert] {
        p.hangup();
    }
    // In the host's last three seconds (all after bert joined): neither anna nor bert.
    let (rate, heard) = read_wav(&host.heard_wav()).unwrap();
    let end = heard.len() as f64 / f64::from(rate) - 0.3;
    let bert_heard = fraction_between(&heard, rate, 1780.0, end - 3.0, end);
    let anna_heard = fraction_between(&heard, rate, 1190.0, end - 3.0, end);
    assert!(
        bert_heard < 0.05 && anna_heard < 0.05,
        "the host hears bert {bert_heard:.3}, anna {anna_heard:.3}"
    );
    // Unmuting the room lets the next joiner be heard.
    server.cli(&["unmute", "--room", "800", "--all"]);
    let mut cleo = Phone::start(PhoneConfig::new("cleo", 1190.0));
    cleo.dial(&server.uri("800"));
    cleo.wait_established(SETUP);
    call_of(&server, "cleo", "connected");
    let list = server.cli(&["participants", "--room", "800"]);
    assert!(!list.contains("cleo  connected (muted)"), "{list}");
    cleo.hangup();
    for p in [&mut host, &mut anna, &mut bert, &mut cleo] {
        p.quit();
    }
}

/// `konferenz participants --room 800 --follow`, its lines timestamped as they arrive.
struct Follower {
    child: std::process::Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Follower {
    fn start(server: &Server) -> Follower {
        let mut child = Command::new(env!("CARGO_BIN_EXE_konferenz"))
            .args(["--config", server.config.to_str().unwrap()])
            .args(["participants", "--room", "800", "--follow"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        // Let it connect before the call (it prints nothing for an empty room).
        std::thread::sleep(Duration::from_millis(500));
        Follower { child, lines }
    }

    /// When the first line containing `needle` arrived.
    fn wait_line(&self, needle: &str) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(needle) => return at,
                Ok(_) => continue,
                Err(_) => panic!("`participants --follow` printed no line with {needle:?}"),
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `shown` relative to `answered`, signed, for the test log.
fn relative(shown: Instant, answered: Instant) -> String {
    match shown.checked_duration_since(answered) {
        Some(d) => format!("+{d:?}"),
        None => format!("-{:?}", answered - shown),
    }
}

#[test]
fn follow_shows_a_caller_in_the_menu_and_the_join_as_they_happen() {
    let server = Server::start_with(&ServerOptions::default().room_with_pin("800", "4711"));
    let follow = Follower::start(&server);
    let mut caller = Phone::start(PhoneConfig::new("anna", 790.0));
    caller.dial(&server.uri("800"));
    caller.wait_established(SETUP);
    let answered = Instant::now();
    let in_menu = follow.wait_line("anna  in-menu");
    eprintln!(
        "in-menu shown {} relative to the 200 OK reaching the test",
        relative(in_menu, answered)
    );
    assert!(
        in_menu <= answered + Duration::from_millis(250),
        "in-menu shown {} after the answer",
        relative(in_menu, answered)
    );
    std::thread::sleep(Duration::from_millis(1500));
    caller.send_dtmf("4711#");
    follow.wait_line("anna  connected");
    caller.hangup();
    follow.wait_line("anna  left");
    caller.quit();
}

#[test]
fn follow_shows_a_dial_in_joining_within_a_fraction_of_a_second() {
    let server = Server::start();
    let follow = Follower::start(&server);
    let mut caller = Phone::start(PhoneConfig::new("bert", 790.0));
    caller.dial(&server.uri("800"));
    caller.wait_established(SETUP);
    let answered = Instant::now();
    let joined = follow.wait_line("bert  connected");
    eprintln!(
        "connected shown {} relative to the 200 OK reaching the test",
        relative(joined, answered)
    );
    assert!(
        joined <= answered + Duration::from_millis(250),
        "connected shown {} after the answer",
        relative(joined, answered)
    );
    caller.hangup();
    caller.quit();
}

#[test]
fn a_block_outlives_a_restart_and_can_be_lifted() {
    let mut server = Server::start();
    let mut pest = Phone::start(PhoneConfig::new("pest", 790.0));
    pest.dial(&server.uri("800"));
    pest.wait_established(SETUP);
    let call = call_of(&server, "pest", "connected");
    server.cli(&["hangup", &call, "--block", "--block-for", "2h"]);
    pest.wait_closed(SETUP);
    let listed = server.cli(&["blocks", "--room", "800"]);
    assert!(
        listed.starts_with("pest  (caller-id)  for 120 more minutes"),
        "{listed}"
    );
    server.restart();
    pest.dial(&server.uri("800"));
    let closed = pest.wait_closed(SETUP);
    assert!(
        closed.to_string().contains("403"),
        "still blocked: {closed}"
    );
    assert_eq!(
        server.cli(&["unblock", "--room", "800", "pest"]),
        "pest may call room 800 again\n"
    );
    assert_eq!(
        server.cli(&["blocks", "--room", "800"]),
        "nobody is blocked from room 800\n"
    );
    pest.dial(&server.uri("800"));
    pest.wait_established(SETUP);
    pest.hangup();
    pest.quit();
}
