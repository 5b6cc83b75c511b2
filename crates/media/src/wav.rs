//! WAV files into [`Prompt`]s: any sample rate, any channel count (averaged to mono),
//! 8/16/24/32-bit integer or 32-bit float samples, resampled once to 8 kHz at load time.
//!
//! `hound` parses the file; `rubato`'s sinc resampler (band-limited, so 44.1 kHz music
//! does not alias into the telephone band) converts the rate.

use crate::{Prompt, SAMPLE_RATE};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

/// Longest clip accepted, in seconds: prompts are seconds long, music a few minutes.
pub const MAX_SECONDS: u32 = 600;

/// Sample rates accepted, in Hz.
pub const SAMPLE_RATES: std::ops::RangeInclusive<u32> = 4000..=384_000;

/// Why a WAV file could not be turned into a [`Prompt`].
#[derive(Debug, thiserror::Error)]
pub enum AudioFileError {
    /// Not a WAV file, truncated, or a sample format hound does not read (e.g. 64-bit float).
    #[error("not a readable WAV file: {0}")]
    Wav(#[from] hound::Error),
    /// A sample rate outside [`SAMPLE_RATES`] (no real recording uses one).
    #[error("WAV sample rate {0} Hz is outside 4000..=384000 Hz")]
    UnsupportedSampleRate(u32),
    /// The header declares zero channels.
    #[error("WAV header declares no channels")]
    NoChannels,
    /// The file holds no samples.
    #[error("WAV file holds no audio samples")]
    Empty,
    /// Longer than [`MAX_SECONDS`].
    #[error("WAV file is {seconds} s long, more than the {MAX_SECONDS} s allowed")]
    TooLong { seconds: u64 },
    /// The resampler refused the rate (far outside what audio files use).
    #[error("cannot resample from {rate} Hz to 8000 Hz: {source}")]
    Resampler {
        rate: u32,
        source: rubato::ResamplerConstructionError,
    },
    /// Resampling failed part way.
    #[error("resampling failed: {0}")]
    Resample(#[from] rubato::ResampleError),
}

/// Decodes a WAV file held in memory into an 8 kHz mono [`Prompt`]. A file that is already
/// 8 kHz mono 16-bit passes through sample for sample. Never panics on bad input.
pub fn decode_wav(bytes: &[u8]) -> Result<Prompt, AudioFileError> {
    let mut reader = hound::WavReader::new(bytes)?;
    let spec = reader.spec();
    if !SAMPLE_RATES.contains(&spec.sample_rate) {
        return Err(AudioFileError::UnsupportedSampleRate(spec.sample_rate));
    }
    if spec.channels == 0 {
        return Err(AudioFileError::NoChannels);
    }
    let seconds = u64::from(reader.duration()) / u64::from(spec.sample_rate);
    if seconds > u64::from(MAX_SECONDS) {
        return Err(AudioFileError::TooLong { seconds });
    }
    let mono = read_mono(&mut reader, spec)?;
    if mono.is_empty() {
        return Err(AudioFileError::Empty);
    }
    let mono = if spec.sample_rate == SAMPLE_RATE {
        mono
    } else {
        resample(&mono, spec.sample_rate)?
    };
    Ok(Prompt::from_samples(
        mono.iter().map(|&s| to_i16(s)).collect::<Vec<i16>>(),
    ))
}

/// All samples as f32 in −1..1 (16-bit values scale exactly), channels averaged. A
/// trailing partial frame (fewer samples than channels) is dropped.
fn read_mono(
    reader: &mut hound::WavReader<&[u8]>,
    spec: hound::WavSpec,
) -> Result<Vec<f32>, AudioFileError> {
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f64;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| (f64::from(s) * scale) as f32))
                .collect::<Result<_, _>>()?
        }
    };
    let channels = usize::from(spec.channels);
    Ok(interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect())
}

fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, AudioFileError> {
    let ratio = f64::from(SAMPLE_RATE) / f64::from(rate);
    // 128 taps keep the cutoff close to 4 kHz; the whole file is converted once at start-up.
    let params = SincInterpolationParameters::new(128, WindowFunction::BlackmanHarris2);
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &params, 1024, 1, FixedAsync::Input)
        .map_err(|source| AudioFileError::Resampler { rate, source })?;
    let input = InterleavedSlice::new(mono, 1, mono.len())
        .expect("a mono slice is always a valid one-channel buffer");
    let output = resampler.process_all(&input, mono.len(), None)?;
    Ok(output.take_data())
}

fn to_i16(s: f32) -> i16 {
    (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}
