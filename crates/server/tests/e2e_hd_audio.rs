//! HD audio with real phones: a G.722 baresip phone, an Opus baresip phone and a G.711
//! phone in room 800. The HD phones each send a speech-band tone and a tone above 4 kHz;
//! the G.711 phone sends 1 kHz. Each HD phone must hear the other's high tone (the mixer
//! runs at 16 kHz) and the G.711 phone; the G.711 phone hears both speech-band tones and
//! nothing folded down from above 4 kHz (8000 − f).

mod support;

use support::audio::{band_fraction, describe, read_wav, tone_absent, tone_present};
use support::conference::SETUP_TIMEOUT;
use support::{Codec, Phone, PhoneConfig, Server};

#[test]
fn g722_opus_and_g711_phones_hear_each_other_and_hd_reaches_the_hd_phones() {
    let server = Server::start();
    let configs = [
        PhoneConfig::new("g722", 700.0)
            .codec(Codec::G722)
            .high_tone(5200.0),
        PhoneConfig::new("opus", 1300.0)
            .codec(Codec::Opus)
            .high_tone(6100.0),
        PhoneConfig::new("pcmu", 1000.0).codec(Codec::Pcmu),
    ];
    let mut phones: Vec<Phone> = configs.into_iter().map(Phone::start).collect();
    let room = server.uri("800");
    for p in &mut phones {
        p.dial(&room);
    }
    for p in &mut phones {
        p.wait_established(SETUP_TIMEOUT);
    }
    for p in &phones {
        let enc = p.encoder();
        assert_eq!(
            enc.as_deref(),
            Some(p.cfg.codec.name()),
            "phone {} codec",
            p.cfg.name
        );
    }
    std::thread::sleep(std::time::Duration::from_secs(6)); // talk time
    for p in &mut phones {
        p.hangup();
    }
    let mut failures = vec![];
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    let heard: Vec<(u32, Vec<i16>)> = phones
        .iter()
        .map(|p| read_wav(&p.heard_wav()).expect("read heard wav"))
        .collect();
    let all = [700.0, 5200.0, 1300.0, 6100.0, 1000.0, 2800.0, 1900.0];
    for (p, (rate, samples)) in phones.iter().zip(&heard) {
        eprintln!(
            "{}",
            describe(
                &format!("{} heard ({rate} Hz)", p.cfg.name),
                samples,
                *rate,
                &all
            )
        );
        let secs = samples.len() as f64 / f64::from(*rate);
        eprintln!(
            "{}: energy above 4 kHz {:.3}",
            p.cfg.name,
            if *rate > 8000 {
                band_fraction(samples, *rate, 4200.0, 7800.0, 1.0, secs - 1.0)
            } else {
                0.0
            }
        );
    }
    let (g722_rate, g722) = &heard[0];
    let (opus_rate, opus) = &heard[1];
    let (pcmu_rate, pcmu) = &heard[2];
    check(
        *g722_rate >= 16000,
        format!("G.722 recording at {g722_rate} Hz"),
    );
    check(
        tone_present(g722, *g722_rate, 6100.0),
        "G.722 phone: no 6.1 kHz from the Opus phone".into(),
    );
    check(
        tone_present(g722, *g722_rate, 1300.0),
        "G.722 phone: no 1.3 kHz".into(),
    );
    check(
        tone_present(g722, *g722_rate, 1000.0),
        "G.722 phone: no 1 kHz".into(),
    );
    check(
        tone_absent(g722, *g722_rate, 5200.0),
        "G.722 phone hears its own 5.2 kHz".into(),
    );
    check(
        tone_present(opus, *opus_rate, 5200.0),
        "Opus phone: no 5.2 kHz from the G.722 phone".into(),
    );
    check(
        tone_present(opus, *opus_rate, 700.0),
        "Opus phone: no 700 Hz".into(),
    );
    check(
        tone_present(opus, *opus_rate, 1000.0),
        "Opus phone: no 1 kHz".into(),
    );
    check(
        tone_absent(opus, *opus_rate, 6100.0),
        "Opus phone hears its own 6.1 kHz".into(),
    );
    check(
        tone_present(pcmu, *pcmu_rate, 700.0),
        "G.711 phone: no 700 Hz".into(),
    );
    check(
        tone_present(pcmu, *pcmu_rate, 1300.0),
        "G.711 phone: no 1.3 kHz".into(),
    );
    for alias in [2800.0, 1900.0] {
        check(
            tone_absent(pcmu, *pcmu_rate, alias),
            format!("G.711 phone hears {alias} Hz folded down"),
        );
    }
    if !failures.is_empty() {
        eprintln!("{}", server.log_tail(40));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for p in &mut phones {
        p.quit();
    }
}
