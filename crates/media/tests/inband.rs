//! In-band DTMF: every key at telephone levels, once per press; G.711 round trips; twist
//! limits; and talk-off: tones, noise, speech-like sound, the shipped prompts and the
//! on-hold music never produce a digit.

use konferenz_media::*;
use std::f64::consts::TAU;

const KEYS: &str = "123A456B789C*0#D";
const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// Sine peak amplitude in linear 16-bit units for a level in dBm0 (G.711: 0 dBm0 ≈ 22 654).
fn dbm0(level: f64) -> f64 {
    22_654.0 * 10f64.powf(level / 20.0)
}

fn key_freqs(key: char) -> (f64, f64) {
    let i = KEYS.find(key).unwrap();
    (ROWS[i / 4], COLS[i % 4])
}

/// Small deterministic PRNG (xorshift) so tests need no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly Gaussian, unit variance.
    fn gauss(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

/// Appends a dual tone: `ms` long, each tone at `low_dbm0` / `high_dbm0`, random phases.
fn push_tone(
    out: &mut Vec<f64>,
    key: char,
    ms: usize,
    low_dbm0: f64,
    high_dbm0: f64,
    rng: &mut Rng,
) {
    let (lo, hi) = key_freqs(key);
    push_pair(out, lo, hi, ms, dbm0(low_dbm0), dbm0(high_dbm0), rng);
}

fn push_pair(out: &mut Vec<f64>, lo: f64, hi: f64, ms: usize, a_lo: f64, a_hi: f64, rng: &mut Rng) {
    let (p1, p2) = (rng.next() * TAU, rng.next() * TAU);
    out.extend((0..ms * 8).map(|n| {
        let t = n as f64 / 8000.0;
        a_lo * (TAU * lo * t + p1).sin() + a_hi * (TAU * hi * t + p2).sin()
    }));
}

fn push_silence(out: &mut Vec<f64>, samples: usize) {
    out.extend(std::iter::repeat_n(0.0, samples));
}

/// Runs `signal` through a fresh detector and returns the digits it reports.
fn detect(signal: &[f64]) -> String {
    detect_pcm(&to_pcm(signal))
}

/// The test signals are made at 8 kHz, as a phone sends them; the mixer hands the
/// detector 16 kHz frames, converted as a G.711 leg converts them.
fn to_pcm(signal: &[f64]) -> Vec<i16> {
    let narrow: Vec<i16> = signal
        .iter()
        .map(|s| s.round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    let mut up = Upsampler::new();
    let mut wide = Vec::with_capacity(2 * narrow.len() + FRAME_SAMPLES);
    for chunk in narrow.chunks(NARROW_SAMPLES) {
        let mut frame = [0i16; NARROW_SAMPLES];
        frame[..chunk.len()].copy_from_slice(chunk);
        let mut out = [0i16; FRAME_SAMPLES];
        up.run(&frame, &mut out);
        wide.extend_from_slice(&out);
    }
    wide
}

/// Feeds `pcm` and then 200 ms of silence, frame by frame; the digits reported.
fn detect_pcm(pcm: &[i16]) -> String {
    let mut detector = InbandDetector::new();
    let tail = std::iter::repeat_n(0, 10 * FRAME_SAMPLES);
    let padded: Vec<i16> = pcm.iter().copied().chain(tail).collect();
    let frames = padded.chunks_exact(FRAME_SAMPLES);
    frames
        .filter_map(|f| detector.push_frame(f.try_into().unwrap()))
        .map(|d| d.digit)
        .collect()
}

fn ulaw_round_trip(pcm: &[i16]) -> Vec<i16> {
    pcm.iter()
        .map(|&s| ulaw_to_linear(linear_to_ulaw(s)))
        .collect()
}

#[test]
fn every_key_is_detected_once_at_telephone_levels() {
    let mut rng = Rng(0x1234_5678);
    for key in KEYS.chars() {
        for level in [-10.0, -20.0, -30.0] {
            for ms in [60, 100, 200] {
                for offset in [0, 37, 80, 151] {
                    let mut s = Vec::new();
                    push_silence(&mut s, 800 + offset);
                    // Phones send the high group a little louder (normal twist).
                    push_tone(&mut s, key, ms, level, level + 2.0, &mut rng);
                    push_silence(&mut s, 1600);
                    assert_eq!(
                        detect(&s),
                        key.to_string(),
                        "key {key} at {level} dBm0 for {ms} ms, offset {offset}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_digit_reports_its_confirmed_duration() {
    let mut rng = Rng(7);
    let mut s = Vec::new();
    push_tone(&mut s, '5', 100, -15.0, -15.0, &mut rng);
    let mut detector = InbandDetector::new();
    let digit = to_pcm(&s)
        .chunks_exact(FRAME_SAMPLES)
        .find_map(|c| detector.push_frame(c.try_into().unwrap()))
        .unwrap();
    assert_eq!(digit.digit, '5');
    assert!(digit.duration.as_millis() >= 40, "{:?}", digit.duration);
}

#[test]
fn presses_separated_by_40ms_pauses_count_separately() {
    let mut rng = Rng(99);
    for offset in [0, 20, 55, 80, 123] {
        for ms in [60, 100] {
            let typed = "4711#11*0#99DD";
            let mut s = Vec::new();
            push_silence(&mut s, offset);
            for key in typed.chars() {
                push_tone(&mut s, key, ms, -20.0, -18.0, &mut rng);
                push_silence(&mut s, 320);
            }
            assert_eq!(detect(&s), typed, "{ms} ms tones, offset {offset}");
        }
    }
}

#[test]
fn a_long_press_counts_once() {
    let mut rng = Rng(3);
    let mut s = Vec::new();
    push_tone(&mut s, '#', 1500, -12.0, -10.0, &mut rng);
    assert_eq!(detect(&s), "#");
}

#[test]
fn ulaw_companded_tones_still_detect() {
    let mut rng = Rng(42);
    for level in [-10.0, -25.0, -30.0] {
        let typed = "0123456789*#ABCD";
        let mut s = Vec::new();
        for key in typed.chars() {
            push_tone(&mut s, key, 70, level, level + 1.0, &mut rng);
            push_silence(&mut s, 400);
        }
        let pcm = ulaw_round_trip(&to_pcm(&s));
        assert_eq!(detect_pcm(&pcm), typed, "at {level} dBm0");
    }
}

#[test]
fn twist_within_limits_is_accepted_beyond_is_rejected() {
    let mut rng = Rng(5);
    let cases = [
        // (low dBm0, high dBm0, detected)
        (-20.0, -14.0, true),  // normal twist 6 dB
        (-20.0, -13.0, true),  // normal twist 7 dB
        (-17.0, -20.0, true),  // reverse twist 3 dB
        (-20.0, -10.0, false), // normal twist 10 dB
        (-14.0, -20.0, false), // reverse twist 6 dB
    ];
    for (low, high, detected) in cases {
        let mut s = Vec::new();
        push_tone(&mut s, '8', 100, low, high, &mut rng);
        push_silence(&mut s, 800);
        let expected = if detected { "8" } else { "" };
        assert_eq!(detect(&s), expected, "low {low} dBm0, high {high} dBm0");
    }
}

#[test]
fn off_nominal_frequencies_within_1_5_percent_detect() {
    let mut rng = Rng(11);
    for key in KEYS.chars() {
        for dev in [-0.015, 0.015] {
            let (lo, hi) = key_freqs(key);
            let mut s = Vec::new();
            let a = dbm0(-20.0);
            push_pair(
                &mut s,
                lo * (1.0 + dev),
                hi * (1.0 + dev),
                80,
                a,
                a,
                &mut rng,
            );
            push_silence(&mut s, 800);
            assert_eq!(detect(&s), key.to_string(), "key {key}, deviation {dev}");
        }
    }
}

#[test]
fn tones_3_5_percent_off_frequency_are_rejected() {
    let mut rng = Rng(12);
    for key in KEYS.chars() {
        for dev in [-0.035, 0.035] {
            let (lo, hi) = key_freqs(key);
            let a = dbm0(-20.0);
            for (l, h) in [(lo * (1.0 + dev), hi), (lo, hi * (1.0 + dev))] {
                let mut s = Vec::new();
                push_pair(&mut s, l, h, 100, a, a, &mut rng);
                push_silence(&mut s, 800);
                assert_eq!(detect(&s), "", "key {key}: {l:.0} + {h:.0} Hz");
            }
        }
    }
}

#[test]
fn tones_shorter_than_20ms_are_ignored() {
    let mut rng = Rng(8);
    let mut s = Vec::new();
    for key in "123".chars() {
        push_tone(&mut s, key, 20, -15.0, -15.0, &mut rng);
        push_silence(&mut s, 800);
    }
    assert_eq!(detect(&s), "");
}

#[test]
fn tones_in_moderate_noise_still_detect() {
    let mut rng = Rng(77);
    let mut s = Vec::new();
    let typed = "2580";
    for key in typed.chars() {
        push_tone(&mut s, key, 80, -20.0, -18.0, &mut rng);
        push_silence(&mut s, 400);
    }
    let noise = dbm0(-45.0);
    for x in &mut s {
        *x += noise * rng.gauss();
    }
    assert_eq!(detect(&s), typed);
}

#[test]
fn silence_single_tones_and_440_hz_give_no_digit() {
    assert_eq!(detect(&vec![0.0; 8000]), "");
    let mut rng = Rng(1);
    for f in ROWS
        .iter()
        .chain(&COLS)
        .chain(&[440.0, 350.0, 425.0, 1000.0, 2000.0])
    {
        for level in [-5.0, -20.0] {
            let mut s = Vec::new();
            push_pair(
                &mut s,
                *f,
                *f,
                1000,
                dbm0(level) / 2.0,
                dbm0(level) / 2.0,
                &mut rng,
            );
            assert_eq!(detect(&s), "", "{f} Hz at {level} dBm0");
        }
    }
    // Dial tone (350 + 440 Hz) is a dual tone, but not a DTMF one.
    let mut s = Vec::new();
    push_pair(
        &mut s,
        350.0,
        440.0,
        1000,
        dbm0(-13.0),
        dbm0(-13.0),
        &mut rng,
    );
    assert_eq!(detect(&s), "");
}

#[test]
fn white_noise_gives_no_digit() {
    let mut rng = Rng(2024);
    for level in [-40.0, -20.0, -10.0] {
        let a = dbm0(level);
        let s: Vec<f64> = (0..8000 * 10).map(|_| a * rng.gauss()).collect();
        assert_eq!(detect(&s), "", "noise at {level} dBm0");
    }
}

/// Voiced "speech": harmonics of a wandering pitch, shaped by three gliding formants,
/// in syllables of varying loudness.
fn speech_like(seconds: usize, rng: &mut Rng) -> Vec<f64> {
    let n = seconds * 8000;
    let mut phase = 0.0;
    let mut out = Vec::with_capacity(n);
    let (mut f1, mut f2) = (700.0, 1200.0);
    let (mut t1, mut t2) = (700.0, 1200.0);
    for i in 0..n {
        let t = i as f64 / 8000.0;
        if i % 1600 == 0 {
            // A new vowel target every 200 ms.
            t1 = 300.0 + 600.0 * rng.next();
            t2 = 900.0 + 1500.0 * rng.next();
        }
        f1 += (t1 - f1) * 0.002;
        f2 += (t2 - f2) * 0.002;
        let f3 = 2500.0 + 200.0 * (1.3 * t).sin();
        let f0 = 140.0 + 50.0 * (2.1 * t).sin() + 20.0 * (7.3 * t).sin();
        phase += TAU * f0 / 8000.0;
        let syllable = (TAU * 4.0 * t).sin().abs();
        let mut x = 0.0;
        let mut h = 1.0;
        while h * f0 < 3800.0 {
            let f = h * f0;
            let w = |fc: f64, bw: f64| 1.0 / (1.0 + ((f - fc) / bw).powi(2));
            x += (w(f1, 80.0) + 0.7 * w(f2, 100.0) + 0.4 * w(f3, 150.0)) * (h * phase).sin();
            h += 1.0;
        }
        out.push(3000.0 * syllable * x);
    }
    out
}

#[test]
fn speech_like_sound_gives_no_digit() {
    for seed in [1, 2, 3, 4, 5] {
        let mut rng = Rng(seed);
        let s = speech_like(20, &mut rng);
        assert_eq!(detect(&s), "", "seed {seed}");
        assert_eq!(
            detect_pcm(&ulaw_round_trip(&to_pcm(&s))),
            "",
            "seed {seed}, µ-law"
        );
    }
}

#[test]
fn gliding_formant_sines_give_no_digit() {
    // Three sines sweeping through the DTMF bands at speech-like rates, with a third
    // formant as loud as a vowel's.
    let mut rng = Rng(17);
    let mut s = Vec::new();
    let (mut p1, mut p2, mut p3) = (0.0, 0.0, 0.0);
    for i in 0..8000 * 20 {
        let t = i as f64 / 8000.0;
        let f1 = 650.0 + 250.0 * (TAU * 0.7 * t).sin();
        let f2 = 1250.0 + 350.0 * (TAU * 0.45 * t + 1.0).sin();
        let f3 = 2400.0 + 150.0 * (TAU * 0.3 * t).sin();
        p1 += TAU * f1 / 8000.0;
        p2 += TAU * f2 / 8000.0;
        p3 += TAU * f3 / 8000.0;
        let env = 0.6 + 0.4 * (TAU * 3.0 * t).sin();
        s.push(
            env * (4000.0 * p1.sin() + 3000.0 * p2.sin() + 2500.0 * p3.sin()) + 50.0 * rng.gauss(),
        );
    }
    assert_eq!(detect(&s), "");
}

fn assets() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts")
}

#[test]
fn on_hold_music_and_tones_give_no_digit() {
    let music = decode_wav(&std::fs::read(assets().join("music/on-hold.wav")).unwrap()).unwrap();
    assert_eq!(detect_pcm(music.samples()), "");
    assert_eq!(detect_pcm(&ulaw_round_trip(music.samples())), "");
    for tone in [join_tone(), leave_tone(), Prompt::tone_fallback()] {
        assert_eq!(detect_pcm(tone.samples()), "");
    }
}

#[test]
fn spoken_prompts_give_no_digit() {
    for lang in ["en", "de"] {
        for entry in std::fs::read_dir(assets().join(lang)).unwrap() {
            let path = entry.unwrap().path();
            let prompt = decode_wav(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(detect_pcm(prompt.samples()), "", "{}", path.display());
        }
    }
}
