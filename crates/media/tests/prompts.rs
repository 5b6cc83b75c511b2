//! Prompts: WAV decoding and resampling, the players, the synthesised tones, and every
//! shipped asset under assets/prompts/ loading as a usable 8 kHz prompt.

mod counting;

use hound::SampleFormat::{Float, Int};
use konferenz_media::*;
use std::f64::consts::TAU;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

use counting::allocations;

fn wav(
    spec: hound::WavSpec,
    write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
) -> Vec<u8> {
    let mut cursor = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
    write(&mut writer);
    writer.finalize().unwrap();
    cursor.into_inner()
}

fn spec(rate: u32, channels: u16, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    }
}

/// |DFT|/(N/2) at `freq`: the amplitude of a sine at that frequency.
fn goertzel_amplitude(samples: &[i16], freq: f64) -> f64 {
    let w = TAU * freq / f64::from(SAMPLE_RATE);
    let (re, im) = samples
        .iter()
        .enumerate()
        .fold((0.0, 0.0), |(re, im), (n, &x)| {
            let x = f64::from(x);
            (re + x * (w * n as f64).cos(), im - x * (w * n as f64).sin())
        });
    (re * re + im * im).sqrt() / (samples.len() as f64 / 2.0)
}

#[test]
fn sixteen_khz_mono_16_bit_passes_through_exactly() {
    let samples: Vec<i16> = (0..8000)
        .map(|i| ((i * 7919) % 65536 - 32768) as i16)
        .collect();
    let bytes = wav(spec(16_000, 1, 16, Int), |w| {
        samples.iter().for_each(|s| w.write_sample(*s).unwrap())
    });
    let prompt = decode_wav(&bytes).unwrap();
    assert_eq!(prompt.samples(), &samples[..]);
    assert_eq!(prompt.duration(), Duration::from_millis(500));
}

#[test]
fn stereo_44_1_khz_sine_becomes_16_khz_mono_at_the_same_pitch() {
    let seconds = 2.0;
    let n = (44_100.0 * seconds) as usize;
    let bytes = wav(spec(44_100, 2, 16, Int), |w| {
        for i in 0..n {
            let s = (10_000.0 * (TAU * 1000.0 * i as f64 / 44_100.0).sin()) as i16;
            w.write_sample(s).unwrap();
            w.write_sample(s).unwrap();
        }
    });
    let prompt = decode_wav(&bytes).unwrap();
    let expected = 32_000.0;
    let len = prompt.len() as f64;
    assert!((len - expected).abs() <= expected * 0.01, "{len} samples");
    // Skip the filter's edges; the middle is a clean 1 kHz sine at the original level.
    let middle = &prompt.samples()[4000..28_000];
    let at_1k = goertzel_amplitude(middle, 1000.0);
    assert!((at_1k - 10_000.0).abs() < 500.0, "1 kHz amplitude {at_1k}");
    for off in [900.0, 1100.0, 2000.0] {
        assert!(
            goertzel_amplitude(middle, off) < 200.0,
            "energy at {off} Hz"
        );
    }
}

#[test]
fn every_sample_format_and_rate_decodes() {
    let cases = [
        (8000, 1, 8, Int),
        (16_000, 1, 24, Int),
        (48_000, 2, 32, Int),
        (22_050, 1, 32, Float),
        (11_025, 2, 16, Int),
        (6000, 1, 16, Int),
        (96_000, 3, 16, Int),
    ];
    for (rate, channels, bits, format) in cases {
        let frames = rate as usize / 2;
        let bytes = wav(spec(rate, channels, bits, format), |w| {
            for i in 0..frames {
                let x = 0.5 * (TAU * 500.0 * i as f64 / f64::from(rate)).sin();
                for _ in 0..channels {
                    match format {
                        Float => w.write_sample(x as f32).unwrap(),
                        Int => {
                            let full = ((1i64 << (bits - 1)) - 1) as f64;
                            w.write_sample((x * full) as i32).unwrap()
                        }
                    }
                }
            }
        });
        let prompt = decode_wav(&bytes).unwrap_or_else(|e| panic!("{rate} Hz {bits} bit: {e}"));
        let len = prompt.len() as f64;
        assert!(
            (len - 8000.0).abs() <= 80.0,
            "{rate} Hz {bits} bit: {len} samples"
        );
        let level = goertzel_amplitude(&prompt.samples()[2000..6000], 500.0);
        assert!(
            (level - 16_384.0).abs() < 1000.0,
            "{rate} Hz {bits} bit: level {level}"
        );
    }
}

#[test]
fn stereo_is_averaged_to_mono() {
    let bytes = wav(spec(16_000, 2, 16, Int), |w| {
        for _ in 0..100 {
            w.write_sample(1000i16).unwrap();
            w.write_sample(-200i16).unwrap();
        }
    });
    assert!(
        decode_wav(&bytes)
            .unwrap()
            .samples()
            .iter()
            .all(|&s| s == 400)
    );
}

#[test]
fn bad_files_are_errors_never_panics() {
    assert!(decode_wav(b"").is_err());
    assert!(decode_wav(b"RIFF\x00\x00\x00\x00WAVEjunk").is_err());
    assert!(decode_wav(&[0xAB; 1000]).is_err());
    let empty = wav(spec(8000, 1, 16, Int), |_| {});
    assert!(matches!(decode_wav(&empty), Err(AudioFileError::Empty)));
    let good = wav(spec(44_100, 2, 16, Int), |w| {
        (0..2000).for_each(|i| w.write_sample((i * 13) as i16).unwrap())
    });
    // Every truncation, and single-byte corruptions of the header.
    for cut in 0..good.len() {
        let _ = decode_wav(&good[..cut]);
    }
    for at in 0..64 {
        for value in [0x00, 0x01, 0x7F, 0xFF] {
            let mut bad = good.clone();
            bad[at] = value;
            let _ = decode_wav(&bad);
        }
    }
    // Sample rates no audio file uses.
    for rate in [1, 7, 8001, 1_000_000, u32::MAX] {
        let mut odd = wav(spec(8000, 1, 16, Int), |w| {
            (0..100).for_each(|i| w.write_sample(i as i16 * 100).unwrap())
        });
        odd[24..28].copy_from_slice(&rate.to_le_bytes());
        odd[28..32].copy_from_slice(&rate.wrapping_mul(2).to_le_bytes());
        match decode_wav(&odd) {
            Ok(prompt) => assert_eq!(rate, 8001, "{} samples", prompt.len()),
            Err(e) => assert_ne!(rate, 8001, "{e}"),
        }
    }
    // Pseudo-random bytes behind a valid-looking header.
    let mut x = 0x9E37_79B9u32;
    for _ in 0..200 {
        let mut bad = good[..44].to_vec();
        bad.extend((0..300).map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        }));
        let _ = decode_wav(&bad);
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let mut odd = wav(spec(8000, 1, 16, Int), |w| w.write_sample(1i16).unwrap());
    odd[24..28].copy_from_slice(&1u32.to_le_bytes());
    odd[28..32].copy_from_slice(&2u32.to_le_bytes());
    let err = decode_wav(&odd).unwrap_err();
    assert!(
        matches!(err, AudioFileError::UnsupportedSampleRate(1)),
        "{err}"
    );
    assert!(err.to_string().contains("1 Hz"), "{err}");
    let err = decode_wav(b"not a wav file at all").unwrap_err();
    assert!(err.to_string().contains("WAV"), "{err}");
    let long = wav(spec(8000, 1, 8, Int), |w| {
        (0..8000 * (MAX_SECONDS as usize + 1)).for_each(|_| w.write_sample(0i8).unwrap())
    });
    let err = decode_wav(&long).unwrap_err();
    assert!(matches!(err, AudioFileError::TooLong { .. }), "{err}");
}

fn prompt(samples: std::ops::Range<i16>) -> Prompt {
    Prompt::from_samples(samples.collect::<Vec<_>>())
}

#[test]
fn players_and_detector_do_not_allocate_per_frame() {
    let music = prompt(0..1000);
    let speech = prompt(-500..500);
    let mut player = PromptPlayer::new();
    let mut looper = LoopPlayer::new(music);
    let mut detector = InbandDetector::new();
    let mut out = [0i16; FRAME_SAMPLES];
    let n = allocations(|| {
        for i in 0..500 {
            if player.is_idle() {
                player.enqueue(speech.clone()).unwrap();
                player.enqueue(speech.clone()).unwrap();
            }
            if i % 97 == 0 {
                player.stop();
            }
            player.next_frame(&mut out);
            looper.next_frame(&mut out);
            std::hint::black_box(detector.push_frame(&out));
        }
    });
    assert_eq!(n, 0);
}

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts")
}

fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    files.sort();
    files
}

fn check_asset(path: &Path, max: Duration) -> Prompt {
    let bytes = std::fs::read(path).unwrap();
    let reader = hound::WavReader::new(&bytes[..]).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16),
        "{}",
        path.display()
    );
    let prompt = decode_wav(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Shipped at 8 kHz (all a phone line carries), played at the mixer's 16 kHz.
    let expected = 2 * reader.duration() as usize;
    assert!(
        prompt.len().abs_diff(expected) <= 4,
        "{} resampled to {} of {expected}",
        path.display(),
        prompt.len()
    );
    assert!(
        prompt.peak() > 3000,
        "{} is (nearly) silent",
        path.display()
    );
    assert!(
        prompt.duration() < max,
        "{} lasts {:?}",
        path.display(),
        prompt.duration()
    );
    prompt
}

#[test]
fn every_shipped_prompt_decodes_to_16_khz_audible_and_short() {
    let mut stems = Vec::new();
    for lang in ["en", "de"] {
        let files = wav_files(&assets().join(lang));
        for path in &files {
            check_asset(path, Duration::from_secs(10));
        }
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        stems.push(names);
    }
    assert_eq!(
        stems[0], stems[1],
        "English and German ship the same prompts"
    );
    for required in [
        "enter-pin",
        "invalid-pin",
        "goodbye",
        "you-are-in",
        "alone-in-room",
        "number-0",
        "number-99",
        "many-other-participants",
    ] {
        assert!(stems[0].iter().any(|s| s == required), "missing {required}");
    }
}

#[test]
fn shipped_music_loops_without_a_click() {
    let music = check_asset(&assets().join("music/on-hold.wav"), Duration::from_secs(60));
    let s = music.samples();
    // The loop joins the last sample to the first: both ends are faded to near silence.
    assert!(s[0].abs() < 200 && s[s.len() - 1].abs() < 200);
    let readme = std::fs::read_to_string(assets().join("README.md")).unwrap();
    for path in wav_files(&assets().join("en")) {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("`{stem}`")),
            "README.md does not list {stem}"
        );
    }
}
