//! Audio for the phones: tone WAV files to send, and tone detection (Goertzel) on recordings.

use std::f64::consts::PI;
use std::path::Path;

/// Writes an 8 kHz mono s16 WAV with a sine of `freq_hz` at half scale lasting `seconds`.
///
/// baresip hangs up when its source file ends, so make it longer than the call.
pub fn tone_wav(path: &Path, freq_hz: f64, seconds: f64) {
    let n = (seconds * 8000.0) as usize;
    let samples: Vec<i16> = (0..n)
        .map(|i| ((2.0 * PI * freq_hz * i as f64 / 8000.0).sin() * 16384.0) as i16)
        .collect();
    write_wav(path, &samples);
}

/// Reads a 16-bit WAV as mono (channels averaged): `(sample_rate, samples)`.
pub fn read_wav(path: &Path) -> Result<(u32, Vec<i16>), String> {
    let mut r = hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = r.spec();
    if spec.channels == 0 || spec.bits_per_sample != 16 {
        return Err(format!("{}: want s16, got {spec:?}", path.display()));
    }
    let samples = r
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let channels = usize::from(spec.channels);
    let mono = samples
        .chunks_exact(channels)
        .map(|f| (f.iter().map(|&s| i32::from(s)).sum::<i32>() / channels as i32) as i16)
        .collect();
    Ok((spec.sample_rate, mono))
}

/// Goertzel power |X(f)|² of `samples` at `freq` (any frequency, not only bin centres).
/// A sine of amplitude A over N samples gives about (A·N/2)².
pub fn goertzel_power(samples: &[f64], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Block length for tone measurements: 200 ms at 8 kHz (5 Hz resolution; a glitch between
/// packets only spoils one block).
const BLOCK: usize = 1600;

/// Fraction (0..=1) of the signal's energy that is a tone at `freq`, measured over the
/// steady part of a recording (first second and last half second skipped) in 200 ms blocks.
/// A pure tone gives ~1.0; two equal tones ~0.5 each; silence 0.0.
pub fn tone_fraction(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let skip_head = rate as usize;
    let skip_tail = rate as usize / 2;
    if samples.len() < skip_head + skip_tail + BLOCK {
        return 0.0;
    }
    let body = &samples[skip_head..samples.len() - skip_tail];
    let (mut tone, mut total) = (0.0f64, 0.0f64);
    let mut block = Vec::with_capacity(BLOCK);
    for chunk in body.chunks_exact(BLOCK) {
        block.clear();
        block.extend(chunk.iter().map(|&s| f64::from(s)));
        let energy: f64 = block.iter().map(|x| x * x).sum();
        tone += goertzel_power(&block, rate, freq) / (BLOCK as f64 / 2.0);
        total += energy;
    }
    // Ignore near-digital-silence: a few LSBs of noise are not a tone.
    if total < 100.0 * body.len() as f64 {
        return 0.0;
    }
    tone / total
}

/// Is a tone at `freq` clearly there: at least 5 % of the energy (two equal tones give 50 %,
/// three 33 %), and far above the energy at neighbouring off-tone frequencies?
pub fn tone_present(samples: &[i16], rate: u32, freq: f64) -> bool {
    let at = tone_fraction(samples, rate, freq);
    let off = [freq - 73.0, freq + 67.0]
        .iter()
        .map(|&f| tone_fraction(samples, rate, f))
        .fold(0.0, f64::max);
    at >= 0.05 && at >= 10.0 * off
}

/// Is a tone at `freq` absent: below 1 % of the energy (or the recording is silent).
pub fn tone_absent(samples: &[i16], rate: u32, freq: f64) -> bool {
    tone_fraction(samples, rate, freq) < 0.01
}

/// One line for the test log: the energy fraction at each frequency.
pub fn describe(label: &str, samples: &[i16], rate: u32, freqs: &[f64]) -> String {
    let parts: Vec<String> = freqs
        .iter()
        .map(|&f| format!("{f:.0} Hz: {:.3}", tone_fraction(samples, rate, f)))
        .collect();
    let secs = samples.len() as f64 / f64::from(rate.max(1));
    format!(
        "{label}: {secs:.1} s recorded; energy fraction {}",
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth(rate: u32, secs: f64, tones: &[(f64, f64)]) -> Vec<i16> {
        let n = (secs * f64::from(rate)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                tones
                    .iter()
                    .map(|&(f, a)| a * (2.0 * PI * f * t).sin())
                    .sum::<f64>() as i16
            })
            .collect()
    }

    #[test]
    fn goertzel_of_pure_sine_matches_theory() {
        let x: Vec<f64> = (0..800)
            .map(|i| 1000.0 * (2.0 * PI * 1000.0 * i as f64 / 8000.0).sin())
            .collect();
        let p = goertzel_power(&x, 8000, 1000.0);
        let expected = (1000.0 * 800.0 / 2.0f64).powi(2);
        assert!(
            (p / expected - 1.0).abs() < 0.01,
            "p={p} expected={expected}"
        );
        assert!(goertzel_power(&x, 8000, 1400.0) < expected * 1e-4);
    }

    #[test]
    fn tone_fraction_of_mixtures() {
        let one = synth(8000, 4.0, &[(790.0, 8000.0)]);
        assert!((tone_fraction(&one, 8000, 790.0) - 1.0).abs() < 0.02);
        let two = synth(8000, 4.0, &[(790.0, 6000.0), (1190.0, 6000.0)]);
        let (a, b) = (
            tone_fraction(&two, 8000, 790.0),
            tone_fraction(&two, 8000, 1190.0),
        );
        assert!(
            (a - 0.5).abs() < 0.03 && (b - 0.5).abs() < 0.03,
            "a={a} b={b}"
        );
        assert!(tone_present(&two, 8000, 790.0) && tone_present(&two, 8000, 1190.0));
        assert!(tone_absent(&two, 8000, 1780.0) && !tone_present(&two, 8000, 1780.0));
    }

    #[test]
    fn silence_and_noise_have_no_tone() {
        let silence = vec![0i16; 32000];
        assert_eq!(tone_fraction(&silence, 8000, 1000.0), 0.0);
        assert!(!tone_present(&silence, 8000, 1000.0));
        let mut s = 12345u32;
        let noise: Vec<i16> = (0..32000)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((s >> 16) as i16) / 4
            })
            .collect();
        assert!(!tone_present(&noise, 8000, 1000.0));
        assert!(tone_absent(&noise, 8000, 1000.0));
    }

    #[test]
    fn tone_wav_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.wav");
        tone_wav(&p, 600.0, 3.0);
        let (rate, s) = read_wav(&p).unwrap();
        assert_eq!((rate, s.len()), (8000, 24000));
        assert!(tone_present(&s, rate, 600.0) && tone_absent(&s, rate, 1000.0));
    }
}

/// Counts the `window_ms` windows between `from_s` and `to_s` seconds whose RMS is below a
/// tenth of the median window RMS: drop-outs in audio that should be continuous.
pub fn dropouts(samples: &[i16], rate: u32, window_ms: u32, from_s: f64, to_s: f64) -> usize {
    let w = (rate * window_ms / 1000) as usize;
    let start = (from_s * rate as f64) as usize;
    let end = ((to_s * rate as f64) as usize).min(samples.len());
    if w == 0 || end <= start + w {
        return 0;
    }
    let rms: Vec<f64> = samples[start..end]
        .chunks_exact(w)
        .map(|c| (c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w as f64).sqrt())
        .collect();
    let mut sorted = rms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    rms.iter().filter(|&&r| r < median / 10.0).count()
}

#[cfg(test)]
mod dropout_tests {
    use super::dropouts;

    #[test]
    fn a_silent_frame_in_a_tone_is_one_dropout() {
        let rate = 8000;
        let mut s: Vec<i16> = (0..rate * 3)
            .map(|n| {
                (10_000.0 * (n as f64 * 2.0 * std::f64::consts::PI * 790.0 / 8000.0).sin()) as i16
            })
            .collect();
        assert_eq!(dropouts(&s, rate, 20, 0.5, 2.5), 0);
        for x in &mut s[12_000..12_160] {
            *x = 0;
        }
        assert_eq!(dropouts(&s, rate, 20, 0.5, 2.5), 1);
    }
}

/// Writes `samples` as an 8 kHz mono s16 WAV (what baresip's aufile and pjsua's player send).
pub fn write_wav(path: &Path, samples: &[i16]) {
    write_wav_at(path, samples, 8000, 1);
}

/// Writes `samples` as an s16 WAV at `rate`, the same in each of `channels`.
pub fn write_wav_at(path: &Path, samples: &[i16], rate: u32, channels: u16) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for &s in samples {
        for _ in 0..channels {
            w.write_sample(s).expect("write wav sample");
        }
    }
    w.finalize().expect("finalize wav");
}

/// A sine of `freq_hz` at half scale for `seconds` at 8 kHz (as [`tone_wav`] writes).
pub fn tone_samples(freq_hz: f64, seconds: f64) -> Vec<i16> {
    let n = (seconds * 8000.0) as usize;
    (0..n)
        .map(|i| ((2.0 * PI * freq_hz * i as f64 / 8000.0).sin() * 16384.0) as i16)
        .collect()
}

/// Two sines (each at quarter scale) for `seconds` at `rate`: an HD phone's speech-band
/// and high tone.
pub fn two_tones(low_hz: f64, high_hz: f64, seconds: f64, rate: u32) -> Vec<i16> {
    let n = (seconds * f64::from(rate)) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (((2.0 * PI * low_hz * t).sin() + (2.0 * PI * high_hz * t).sin()) * 8192.0) as i16
        })
        .collect()
}

/// `seconds` of digital silence at 8 kHz.
pub fn silence(seconds: f64) -> Vec<i16> {
    vec![0; (seconds * 8000.0) as usize]
}

/// The (row, column) frequencies of a DTMF key (`0-9 * # A-D`).
pub fn dtmf_freqs(key: char) -> (f64, f64) {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const KEYS: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    for (r, row) in KEYS.iter().enumerate() {
        if let Some(c) = row.find(key.to_ascii_uppercase()) {
            return (ROWS[r], COLS[c]);
        }
    }
    panic!("not a DTMF key: {key:?}");
}

/// In-band DTMF at 8 kHz: each key `on_ms` of its two sines (each at `dbfs`, e.g. −10.0),
/// then `off_ms` of silence.
pub fn dtmf_samples(keys: &str, on_ms: u32, off_ms: u32, dbfs: f64) -> Vec<i16> {
    let amp = 32767.0 * 10f64.powf(dbfs / 20.0);
    let mut out = Vec::new();
    for key in keys.chars() {
        let (lo, hi) = dtmf_freqs(key);
        let n = (on_ms * 8) as usize;
        out.extend((0..n).map(|i| {
            let t = i as f64 / 8000.0;
            (amp * ((2.0 * PI * lo * t).sin() + (2.0 * PI * hi * t).sin())).round() as i16
        }));
        out.extend(std::iter::repeat_n(0i16, (off_ms * 8) as usize));
    }
    out
}

/// Fraction of the energy between `from_s` and `to_s` seconds that is a tone at `freq`,
/// in 100 ms blocks (0.0 for a near-silent stretch).
pub fn fraction_between(samples: &[i16], rate: u32, freq: f64, from_s: f64, to_s: f64) -> f64 {
    let (tone, total) = span_energy(samples, rate, from_s, to_s, |b| {
        goertzel_power(b, rate, freq) / (b.len() as f64 / 2.0)
    });
    if total < 100.0 * (to_s - from_s).max(0.0) * f64::from(rate) {
        return 0.0;
    }
    tone / total
}

/// Fraction of the energy between `from_s` and `to_s` seconds that lies between `lo_hz` and
/// `hi_hz` (sum of 10 Hz-spaced DFT bins of 100 ms blocks; Parseval), e.g. the on-hold
/// music below 600 Hz. 0.0 for a near-silent stretch.
pub fn band_fraction(
    samples: &[i16],
    rate: u32,
    lo_hz: f64,
    hi_hz: f64,
    from_s: f64,
    to_s: f64,
) -> f64 {
    let (band, total) = span_energy(samples, rate, from_s, to_s, |b| {
        let bin = f64::from(rate) / b.len() as f64;
        let mut sum = 0.0;
        let mut k = (lo_hz / bin).ceil();
        while k * bin <= hi_hz {
            sum += goertzel_power(b, rate, k * bin);
            k += 1.0;
        }
        // Σ|X_k|² over positive bins ≈ (N/2)·Σx² for a signal without DC.
        sum / (b.len() as f64 / 2.0)
    });
    if total < 100.0 * (to_s - from_s).max(0.0) * f64::from(rate) {
        return 0.0;
    }
    band / total
}

/// Sums `measure(block)` and the block energy over 100 ms blocks between the two times.
fn span_energy(
    samples: &[i16],
    rate: u32,
    from_s: f64,
    to_s: f64,
    mut measure: impl FnMut(&[f64]) -> f64,
) -> (f64, f64) {
    let block = (rate / 10) as usize;
    let start = ((from_s.max(0.0)) * f64::from(rate)) as usize;
    let end = ((to_s.max(0.0) * f64::from(rate)) as usize).min(samples.len());
    let (mut part, mut total) = (0.0, 0.0);
    let mut buf = Vec::with_capacity(block);
    if end <= start {
        return (0.0, 0.0);
    }
    for chunk in samples[start..end].chunks_exact(block) {
        buf.clear();
        buf.extend(chunk.iter().map(|&s| f64::from(s)));
        part += measure(&buf);
        total += buf.iter().map(|x| x * x).sum::<f64>();
    }
    (part, total)
}

/// The time (s) at which a tone at `freq` starts and stays: the start of the first run of
/// `hold_blocks` consecutive 100 ms blocks in each of which it is ≥ `min_fraction` of the
/// energy. `None` if it never does.
pub fn tone_onset(
    samples: &[i16],
    rate: u32,
    freq: f64,
    min_fraction: f64,
    hold_blocks: usize,
) -> Option<f64> {
    let block = (rate / 10) as usize;
    let mut run = 0usize;
    for (i, chunk) in samples.chunks_exact(block).enumerate() {
        let x: Vec<f64> = chunk.iter().map(|&s| f64::from(s)).collect();
        let energy: f64 = x.iter().map(|v| v * v).sum();
        let frac = if energy < 100.0 * block as f64 {
            0.0
        } else {
            goertzel_power(&x, rate, freq) / (block as f64 / 2.0) / energy
        };
        if frac >= min_fraction {
            run += 1;
            if run >= hold_blocks {
                return Some((i + 1 - run) as f64 * 0.1);
            }
        } else {
            run = 0;
        }
    }
    None
}

/// The 50 ms blocks (start time, fraction at `freq`) between two times: for short events such
/// as the join tone's two 150 ms notes.
pub fn fraction_track(
    samples: &[i16],
    rate: u32,
    freq: f64,
    from_s: f64,
    to_s: f64,
) -> Vec<(f64, f64)> {
    let block = (rate / 20) as usize;
    let start = (from_s.max(0.0) * f64::from(rate)) as usize;
    let end = ((to_s.max(0.0) * f64::from(rate)) as usize).min(samples.len());
    if end <= start {
        return Vec::new();
    }
    samples[start..end]
        .chunks_exact(block)
        .enumerate()
        .map(|(i, chunk)| {
            let x: Vec<f64> = chunk.iter().map(|&s| f64::from(s)).collect();
            let energy: f64 = x.iter().map(|v| v * v).sum();
            let frac = if energy < 100.0 * block as f64 {
                0.0
            } else {
                goertzel_power(&x, rate, freq) / (block as f64 / 2.0) / energy
            };
            (from_s + i as f64 * 0.05, frac)
        })
        .collect()
}

#[cfg(test)]
mod pin_audio_tests {
    use super::*;

    #[test]
    fn dtmf_keys_have_their_two_tones() {
        let s = dtmf_samples("5", 100, 100, -10.0);
        assert_eq!(s.len(), 1600);
        let on: Vec<f64> = s[..800].iter().map(|&v| f64::from(v)).collect();
        let e: f64 = on.iter().map(|v| v * v).sum();
        for f in [770.0, 1336.0] {
            let frac = goertzel_power(&on, 8000, f) / 400.0 / e;
            assert!((frac - 0.5).abs() < 0.05, "{f}: {frac}");
        }
    }

    #[test]
    fn band_fraction_and_onset() {
        let mut s = tone_samples(261.63, 2.0);
        s.extend(tone_samples(1190.0, 2.0));
        assert!(band_fraction(&s, 8000, 50.0, 600.0, 0.2, 1.8) > 0.9);
        assert!(band_fraction(&s, 8000, 50.0, 600.0, 2.2, 3.8) < 0.05);
        let t = tone_onset(&s, 8000, 1190.0, 0.5, 5).unwrap();
        assert!((t - 2.0).abs() < 0.11, "{t}");
        assert!(fraction_between(&s, 8000, 1190.0, 2.2, 3.8) > 0.9);
    }
}
