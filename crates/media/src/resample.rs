//! 8 ↔ 16 kHz conversion of 20 ms frames for G.711 legs of the wideband mixer, by rubato's
//! band-limited sinc resampler (fixed ratio 2, fixed 20 ms chunks). Buffers are made once
//! per leg; converting a frame allocates nothing.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

use crate::{FRAME_SAMPLES, Frame, NARROW_SAMPLES};

/// Taps of the sinc filter: 48 at the input rate keep the delay near 2.3 ms while the band
/// up to 3.4 kHz passes flat and images above 4 kHz are well below the signal.
const SINC_LEN: usize = 48;

fn resampler(ratio: f64, chunk: usize) -> Async<f32> {
    let params = SincInterpolationParameters {
        sinc_len: SINC_LEN,
        f_cutoff: Some(0.88),
        oversampling_factor: 2,
        interpolation: rubato::SincInterpolationType::Nearest,
        window: WindowFunction::BlackmanHarris2,
    };
    Async::<f32>::new_sinc(ratio, 1.0, &params, chunk, 1, FixedAsync::Input)
        .expect("a fixed ratio of 2 or 1/2 with a positive chunk is a valid resampler")
}

/// One direction of conversion with its own filter state and scratch buffers.
struct Converter {
    inner: Async<f32>,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl Converter {
    fn new(ratio: f64, chunk: usize) -> Self {
        let inner = resampler(ratio, chunk);
        let output = vec![0.0; inner.output_frames_max()];
        Converter {
            inner,
            input: vec![0.0; chunk],
            output,
        }
    }

    /// Converts `input` (one chunk) into `out`; a short result (the filter's first
    /// call) is padded at the front with silence so every frame has its full length.
    fn run(&mut self, input: &[i16], out: &mut [i16]) {
        for (f, &s) in self.input.iter_mut().zip(input) {
            *f = f32::from(s) / 32768.0;
        }
        let len = self.input.len();
        let produced = {
            let inb = InterleavedSlice::new(&self.input[..], 1, len)
                .expect("one channel of `len` samples");
            let cap = self.output.len();
            let mut outb = InterleavedSlice::new_mut(&mut self.output[..], 1, cap)
                .expect("one channel of `cap` samples");
            match self.inner.process_into_buffer(&inb, &mut outb, None) {
                Ok((_, produced)) => produced.min(out.len()),
                Err(_) => 0,
            }
        };
        let pad = out.len() - produced;
        out[..pad].fill(0);
        for (o, &f) in out[pad..].iter_mut().zip(&self.output[..produced]) {
            *o = (f * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        }
    }
}

/// 8 kHz → 16 kHz, 20 ms at a time.
pub struct Upsampler(Converter);

impl Default for Upsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for Downsampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Upsampler {
    pub fn new() -> Self {
        Upsampler(Converter::new(2.0, NARROW_SAMPLES))
    }

    pub fn run(&mut self, input: &[i16; NARROW_SAMPLES], out: &mut Frame) {
        self.0.run(input, out);
    }

    /// Forgets the filter's history (the stream resumes after a pause).
    pub fn reset(&mut self) {
        self.0.inner.reset();
    }
}

/// 16 kHz → 8 kHz, 20 ms at a time (band-limited below 4 kHz first).
pub struct Downsampler(Converter);

impl Downsampler {
    pub fn new() -> Self {
        Downsampler(Converter::new(0.5, FRAME_SAMPLES))
    }

    pub fn run(&mut self, input: &Frame, out: &mut [i16; NARROW_SAMPLES]) {
        self.0.run(input, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: f64, hz: f64, n: usize, at: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * hz * (at + i) as f64 / rate).sin()) as i16
            })
            .collect()
    }

    fn amplitude(x: &[i16], rate: f64, hz: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * hz * i as f64 / rate;
            re += s as f64 * w.cos();
            im += s as f64 * w.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    #[test]
    fn upsampling_keeps_speech_frequencies_and_every_frame_is_full() {
        let mut up = Upsampler::new();
        let mut heard = vec![];
        for k in 0..20 {
            let input: [i16; NARROW_SAMPLES] =
                tone(8000.0, 1000.0, NARROW_SAMPLES, k * NARROW_SAMPLES)
                    .try_into()
                    .unwrap();
            let mut out = [0; FRAME_SAMPLES];
            up.run(&input, &mut out);
            heard.extend_from_slice(&out);
        }
        let tail = &heard[heard.len() - 4 * FRAME_SAMPLES..];
        let a = amplitude(tail, 16000.0, 1000.0);
        assert!((7600.0..8400.0).contains(&a), "1 kHz at {a}");
        // No image of the tone at 7 kHz (8 kHz − 1 kHz).
        assert!(amplitude(tail, 16000.0, 7000.0) < 80.0);
    }

    #[test]
    fn downsampling_removes_what_8_khz_cannot_carry() {
        let mut down = Downsampler::new();
        let mut low = vec![];
        let mut high = vec![];
        let mut down_high = Downsampler::new();
        for k in 0..20 {
            let a: Frame = tone(16000.0, 1000.0, FRAME_SAMPLES, k * FRAME_SAMPLES)
                .try_into()
                .unwrap();
            let b: Frame = tone(16000.0, 6000.0, FRAME_SAMPLES, k * FRAME_SAMPLES)
                .try_into()
                .unwrap();
            let mut out = [0; NARROW_SAMPLES];
            down.run(&a, &mut out);
            low.extend_from_slice(&out);
            down_high.run(&b, &mut out);
            high.extend_from_slice(&out);
        }
        let tail = |v: &Vec<i16>| v[v.len() - 4 * NARROW_SAMPLES..].to_vec();
        let a = amplitude(&tail(&low), 8000.0, 1000.0);
        assert!((7600.0..8400.0).contains(&a), "1 kHz at {a}");
        // 6 kHz would alias to 2 kHz; the filter removes it.
        let alias = tail(&high)
            .iter()
            .map(|s| s.unsigned_abs() as u32)
            .max()
            .unwrap();
        assert!(alias < 200, "6 kHz leaked as {alias}");
    }

    #[test]
    fn the_round_trip_delay_is_a_few_milliseconds() {
        // A click through up- then down-sampling arrives within 5 ms (40 samples at 8 kHz):
        // about 2.3 ms each way, what a G.711 caller's audio gains from the wideband mixer.
        let mut up = Upsampler::new();
        let mut down = Downsampler::new();
        let mut heard = vec![];
        for k in 0..4 {
            let mut input = [0i16; NARROW_SAMPLES];
            if k == 1 {
                input[0] = 20000;
            }
            let mut wide = [0; FRAME_SAMPLES];
            up.run(&input, &mut wide);
            let mut narrow = [0; NARROW_SAMPLES];
            down.run(&wide, &mut narrow);
            heard.extend_from_slice(&narrow);
        }
        let peak = heard
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.unsigned_abs())
            .map(|(i, _)| i)
            .unwrap();
        let delay = peak - NARROW_SAMPLES;
        assert!(delay <= 40, "delay {delay} samples");
    }
}
