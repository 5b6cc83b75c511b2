//! In-band DTMF detection (ITU-T Q.23/Q.24 tones in the audio itself), for phones that send
//! neither RFC 4733 events nor SIP INFO.
//!
//! Goertzel filters at the eight DTMF frequencies run over 10 ms sub-blocks (80 samples).
//! Their complex outputs combine into 20 ms windows that advance every 10 ms, which gives
//! the frequency resolution of a 20 ms block (adjacent rows 73 Hz apart stay ~13 dB apart)
//! with the time resolution of 10 ms. Each window is tested for a digit:
//!
//! - energy: both tones at least [`MIN_TONE_AMPLITUDE`] (about −39 dBm0);
//! - one row and one column at least [`PEER_RATIO`] above every other row/column;
//! - twist: the high-group tone at most 8 dB above the low one (normal twist), at most
//!   4 dB below it (reverse twist);
//! - frequency: the phase advance between the two halves puts each tone within
//!   [`MAX_DEVIATION`] of its nominal frequency;
//! - purity: the two tones (their power corrected for the measured frequency offset) carry
//!   at least [`TONE_TO_TOTAL`] of the window's energy, which rejects speech and music
//!   whose harmonics happen to touch a row and a column.
//!
//! A digit counts after [`ON_WINDOWS`] consecutive windows agree with both tones steady in
//! level (the tone has lasted about 40 ms) and is reported once per key press; the press
//! ends after [`OFF_WINDOWS`] windows without it (a 40 ms pause always contains two), so
//! the same key pressed again counts again. One window's drop-out inside a press is
//! tolerated.

use crate::resample::Downsampler;
use crate::{DtmfDigit, FRAME_SAMPLES, Frame, NARROW_SAMPLES};

/// The detector works on narrowband audio (DTMF tones lie below 1.7 kHz).
const SAMPLE_RATE: u32 = 8000;
use std::time::Duration;

/// Samples in one sub-block (10 ms).
const BLOCK: usize = 80;
/// Samples in one analysis window (two sub-blocks, 20 ms).
const WINDOW: usize = 2 * BLOCK;
/// Row (low group) then column (high group) frequencies in Hz.
const FREQS: [f32; 8] = [697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0];
/// Digits by row and column.
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// Weakest tone accepted, as a sine amplitude in linear 16-bit units (0 dBm0 ≈ 22 700).
pub const MIN_TONE_AMPLITUDE: f32 = 250.0;
/// Power ratio by which the strongest row (column) must beat every other row (column): 6 dB.
pub const PEER_RATIO: f32 = 3.98;
/// Largest power ratio high group / low group (normal twist, 8 dB).
pub const NORMAL_TWIST: f32 = 6.31;
/// Largest power ratio low group / high group (reverse twist, 4 dB).
pub const REVERSE_TWIST: f32 = 2.51;
/// Largest deviation from the nominal frequency accepted (Q.24 asks for ±1.5 % to be
/// accepted; ±3.5 % should not be).
pub const MAX_DEVIATION: f32 = 0.02;
/// Smallest share of the window's energy that the two tones must carry.
pub const TONE_TO_TOTAL: f32 = 0.85;
/// Largest change of either tone's power between consecutive windows of one press (3 dB):
/// a key's tones are steady, while speech and music glide through a filter's passband.
pub const STEADY_RATIO: f32 = 2.0;
/// Consecutive steady windows with the same digit before it counts (10 ms apart, 20 ms long).
pub const ON_WINDOWS: u8 = 3;
/// Consecutive windows without the digit that end a key press.
pub const OFF_WINDOWS: u8 = 2;

/// Per-frequency constants of the Goertzel filter and its complex read-out.
#[derive(Clone, Copy, Debug)]
struct Coefficients {
    /// 2·cos(ω).
    feedback: [f32; 8],
    /// e^{−jω(N−1)} (real, imaginary).
    last: [(f32, f32); 8],
    /// e^{−jωN}: also the phase step from one sub-block to the next.
    step: [(f32, f32); 8],
    /// Largest phase drift per sub-block that [`MAX_DEVIATION`] allows, in radians.
    max_drift: [f32; 8],
}

impl Coefficients {
    fn new() -> Coefficients {
        let mut c = Coefficients {
            feedback: [0.0; 8],
            last: [(0.0, 0.0); 8],
            step: [(0.0, 0.0); 8],
            max_drift: [0.0; 8],
        };
        for (k, f) in FREQS.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * f64::from(*f) / f64::from(SAMPLE_RATE);
            let phase = |n: f64| ((w * n).cos() as f32, -(w * n).sin() as f32);
            c.feedback[k] = (2.0 * w.cos()) as f32;
            c.last[k] = phase((BLOCK - 1) as f64);
            c.step[k] = phase(BLOCK as f64);
            let drift = w * f64::from(MAX_DEVIATION) * BLOCK as f64;
            c.max_drift[k] = drift as f32;
        }
        c
    }
}

/// Detects DTMF digits in a caller's decoded audio, one 20 ms frame at a time. Holds a
/// few hundred bytes of state and never allocates.
pub struct InbandDetector {
    /// 16 → 8 kHz, band-limited (so nothing above 4 kHz folds onto the DTMF band).
    down: Box<Downsampler>,
    coefficients: Coefficients,
    /// DFT of the previous sub-block at each frequency.
    previous: [(f32, f32); 8],
    /// Energy (sum of squares) of the previous sub-block.
    previous_energy: f32,
    /// Digit seen in the latest windows and in how many in a row.
    candidate: Option<char>,
    /// Row and column power of the latest window that held `candidate`.
    candidate_power: (f32, f32),
    candidate_windows: u8,
    /// The key press already reported, and how many windows it has been missing.
    pressed: Option<char>,
    missing: u8,
}

impl Default for InbandDetector {
    fn default() -> Self {
        InbandDetector::new()
    }
}

impl std::fmt::Debug for InbandDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InbandDetector")
            .field("pressed", &self.pressed)
            .finish_non_exhaustive()
    }
}

impl InbandDetector {
    /// A detector that has heard nothing yet.
    pub fn new() -> InbandDetector {
        InbandDetector {
            down: Box::new(Downsampler::new()),
            coefficients: Coefficients::new(),
            previous: [(0.0, 0.0); 8],
            previous_energy: 0.0,
            candidate: None,
            candidate_power: (0.0, 0.0),
            candidate_windows: 0,
            pressed: None,
            missing: 0,
        }
    }

    /// Feeds the next 20 ms of received audio. Returns a digit the moment a key press has
    /// been confirmed (its `duration` is how long the tone had lasted by then), once per
    /// press; at most one per frame, since a press takes longer than a frame to confirm.
    pub fn push_frame(&mut self, frame: &Frame) -> Option<DtmfDigit> {
        let mut narrow = [0i16; NARROW_SAMPLES];
        self.down.run(frame, &mut narrow);
        let mut found = None;
        for block in narrow.chunks_exact(BLOCK) {
            let block: &[i16; BLOCK] = block.try_into().expect("NARROW_SAMPLES is 2 × BLOCK");
            if let Some(digit) = self.push_block(block) {
                found = Some(digit);
            }
        }
        found
    }

    /// Forgets everything heard so far (a new call on a reused detector).
    pub fn reset(&mut self) {
        *self = InbandDetector::new();
    }

    fn push_block(&mut self, block: &[i16; BLOCK]) -> Option<DtmfDigit> {
        let (current, energy) = self.analyse(block);
        let mut window = [0.0f32; 8];
        for k in 0..8 {
            let (pr, pi) = self.previous[k];
            let (cr, ci) = current[k];
            let (sr, si) = self.coefficients.step[k];
            let re = pr + sr * cr - si * ci;
            let im = pi + sr * ci + si * cr;
            window[k] = re * re + im * im;
        }
        let total = self.previous_energy + energy;
        let hit = classify(&window).filter(|h| {
            let c = &self.coefficients;
            let row = drift(c, &self.previous, &current, h.row);
            let col = drift(c, &self.previous, &current, 4 + h.col);
            row.abs() <= c.max_drift[h.row]
                && col.abs() <= c.max_drift[4 + h.col]
                && pure(h.row_power, row, h.col_power, col, total)
        });
        self.previous = current;
        self.previous_energy = energy;
        self.track(hit)
    }

    /// Goertzel over one sub-block: each frequency's DFT value and the block's energy.
    fn analyse(&self, block: &[i16; BLOCK]) -> ([(f32, f32); 8], f32) {
        let c = &self.coefficients;
        let (mut s1, mut s2) = ([0.0f32; 8], [0.0f32; 8]);
        let mut energy = 0.0f32;
        for &x in block {
            let x = f32::from(x);
            energy += x * x;
            for k in 0..8 {
                let s0 = x + c.feedback[k] * s1[k] - s2[k];
                s2[k] = s1[k];
                s1[k] = s0;
            }
        }
        let mut out = [(0.0, 0.0); 8];
        for k in 0..8 {
            // y = s1 − e^{−jω}·s2 = e^{jω(N−1)}·X, so X = e^{−jω(N−1)}·s1 − e^{−jωN}·s2.
            let (lr, li) = c.last[k];
            let (sr, si) = c.step[k];
            out[k] = (lr * s1[k] - sr * s2[k], li * s1[k] - si * s2[k]);
        }
        (out, energy)
    }

    /// Debounces window decisions into one report per key press.
    fn track(&mut self, hit: Option<Hit>) -> Option<DtmfDigit> {
        let digit = hit.map(|h| h.digit);
        let steady = hit.is_some_and(|h| {
            let (row, col) = self.candidate_power;
            within(h.row_power, row, STEADY_RATIO) && within(h.col_power, col, STEADY_RATIO)
        });
        if digit.is_some() && digit == self.candidate && steady {
            self.candidate_windows = self.candidate_windows.saturating_add(1);
        } else {
            self.candidate = digit;
            self.candidate_windows = u8::from(digit.is_some());
        }
        if let Some(h) = hit {
            self.candidate_power = (h.row_power, h.col_power);
        }
        if let Some(pressed) = self.pressed {
            if digit == Some(pressed) {
                self.missing = 0;
            } else {
                self.missing += 1;
                if self.missing >= OFF_WINDOWS {
                    self.pressed = None;
                }
            }
        }
        match self.candidate {
            Some(c) if self.pressed.is_none() && self.candidate_windows >= ON_WINDOWS => {
                self.pressed = Some(c);
                self.missing = 0;
                // Windows are 10 ms apart and each spans 20 ms.
                let ms = 10 * u64::from(self.candidate_windows) + 10;
                Some(DtmfDigit {
                    digit: c,
                    duration: Duration::from_millis(ms),
                })
            }
            _ => None,
        }
    }
}

/// A window that passed every check.
#[derive(Clone, Copy, Debug)]
struct Hit {
    digit: char,
    row: usize,
    col: usize,
    row_power: f32,
    col_power: f32,
}

/// How far the tone at frequency `k` advanced in phase from the previous sub-block to this
/// one beyond what the nominal frequency gives, in radians: 2π·Δf·10 ms. This measures
/// frequency far finer than the filters' 50 Hz resolution, so a speech harmonic 3 % off a
/// DTMF frequency and a sweep passing through one are told apart from a key's tone.
fn drift(c: &Coefficients, previous: &[(f32, f32); 8], current: &[(f32, f32); 8], k: usize) -> f32 {
    // z = current · conj(previous) · e^{−jωN}.
    let (pr, pi) = previous[k];
    let (cr, ci) = current[k];
    let (ar, ai) = (cr * pr + ci * pi, ci * pr - cr * pi);
    let (sr, si) = c.step[k];
    let (zr, zi) = (ar * sr - ai * si, ar * si + ai * sr);
    zi.atan2(zr)
}

/// True if the two tones carry at least [`TONE_TO_TOTAL`] of the window's energy. Each
/// tone's power is first corrected for the loss of a filter tuned `drift` away from it
/// (|X|² falls as sinc²(π·Δf·20 ms), and π·Δf·20 ms is exactly the drift angle), so a key
/// 2 % off frequency measures as pure as one on frequency.
fn pure(row_power: f32, row_drift: f32, col_power: f32, col_drift: f32, total: f32) -> bool {
    let sinc2 = |x: f32| {
        if x.abs() < 1e-3 {
            1.0
        } else {
            (x.sin() / x).powi(2)
        }
    };
    let tones = row_power / sinc2(row_drift) + col_power / sinc2(col_drift);
    // A sine's energy over the window is A²·N/2 = 2·|X|²/N.
    2.0 * tones / WINDOW as f32 >= TONE_TO_TOTAL * total
}

/// True if `a` and `b` differ by at most the factor `ratio`.
fn within(a: f32, b: f32, ratio: f32) -> bool {
    a <= b * ratio && b <= a * ratio
}

/// The digit one 20 ms window may hold: the level, twist and peer checks on `power`, |X|²
/// per frequency. Frequency and purity are checked by the caller.
fn classify(power: &[f32; 8]) -> Option<Hit> {
    let (row, row_power) = strongest(&power[..4]);
    let (col, col_power) = strongest(&power[4..]);
    // A sine of amplitude A over N samples gives |X| ≈ A·N/2.
    let min_power = (MIN_TONE_AMPLITUDE * WINDOW as f32 / 2.0).powi(2);
    if row_power < min_power || col_power < min_power {
        return None;
    }
    if col_power > row_power * NORMAL_TWIST || row_power > col_power * REVERSE_TWIST {
        return None;
    }
    let peers_below = |group: &[f32], best: usize, best_power: f32| {
        group
            .iter()
            .enumerate()
            .all(|(k, &p)| k == best || p * PEER_RATIO <= best_power)
    };
    if !peers_below(&power[..4], row, row_power) || !peers_below(&power[4..], col, col_power) {
        return None;
    }
    Some(Hit {
        digit: KEYS[row][col],
        row,
        col,
        row_power,
        col_power,
    })
}

fn strongest(group: &[f32]) -> (usize, f32) {
    group.iter().copied().enumerate().fold(
        (0, f32::MIN),
        |best, (k, p)| if p > best.1 { (k, p) } else { best },
    )
}

const _: () = assert!(NARROW_SAMPLES == WINDOW && FRAME_SAMPLES == 2 * NARROW_SAMPLES);
