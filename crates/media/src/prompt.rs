//! [`Prompt`]: an immutable clip of 8 kHz linear PCM, decoded or synthesised once at
//! start-up and shared by every call that plays it (cloning only bumps a reference count).

use crate::SAMPLE_RATE;
use std::sync::Arc;
use std::time::Duration;

/// A clip of 8 kHz mono 16-bit samples: a spoken prompt, a tone, or on-hold music.
///
/// Cheap to clone and safe to share between room tasks; the samples never change.
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    /// Wraps samples that are already 8 kHz mono.
    pub fn from_samples(samples: impl Into<Arc<[i16]>>) -> Prompt {
        Prompt {
            samples: samples.into(),
        }
    }

    /// `duration` of silence (rounded down to whole samples).
    pub fn silence(duration: Duration) -> Prompt {
        let n = duration.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000;
        Prompt::from_samples(vec![0i16; n as usize])
    }

    /// What to play when a prompt's file is missing or unreadable, so the server can start
    /// without its audio files: a short, soft 425 Hz beep (the European "attention" pitch)
    /// followed by a little silence, so a caller at least hears that something is expected.
    pub fn tone_fallback() -> Prompt {
        crate::tones::fallback_beep()
    }

    /// The very same recording (not merely equal samples): a cheap pointer comparison.
    pub fn is(&self, other: &Prompt) -> bool {
        Arc::ptr_eq(&self.samples, &other.samples)
    }

    /// The samples, 8000 per second.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True for a clip without samples (plays as nothing at all).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Playing time.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.samples.len() as u64 * 1_000_000 / u64::from(SAMPLE_RATE))
    }

    /// Largest absolute sample value (0 for silence), for level checks.
    pub fn peak(&self) -> u16 {
        self.samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0)
    }
}

impl std::fmt::Debug for Prompt {
    // The samples themselves are never useful in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("samples", &self.samples.len())
            .field("duration", &self.duration())
            .finish()
    }
}
