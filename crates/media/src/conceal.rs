//! Packet-loss concealment: repeat the last good frame with a gain ramp that fades to zero
//! over [`FADE_FRAMES`] frames (60 ms), then silence.

use crate::{FRAME_SAMPLES, Frame, FrameKind};

/// Frames over which a repeated frame fades out.
pub const FADE_FRAMES: u32 = 3;

/// Remembers the last frame played and makes up replacements for missing ones.
#[derive(Debug)]
pub struct Concealer {
    last: Frame,
    /// Frames concealed since the last good one; `None` when there is nothing to repeat.
    run: Option<u32>,
}

impl Default for Concealer {
    fn default() -> Self {
        Concealer {
            last: [0; FRAME_SAMPLES],
            run: None,
        }
    }
}

impl Concealer {
    /// A good frame was played.
    pub fn on_audio(&mut self, frame: &Frame) {
        self.last = *frame;
        self.run = Some(0);
    }

    /// Non-audio was played (silence, a DTMF event): nothing to repeat after it.
    pub fn reset(&mut self) {
        self.run = None;
    }

    /// Writes a replacement frame: the last frame with gain falling linearly from
    /// `1 − run/3` to `1 − (run+1)/3`, or silence once the fade is over.
    pub fn conceal(&mut self, out: &mut Frame) -> FrameKind {
        let Some(run) = self.run.filter(|&r| r < FADE_FRAMES) else {
            out.fill(0);
            self.run = None;
            return FrameKind::Silence;
        };
        // Gain in Q16 per sample, stepping down across the whole fade.
        let total = (FADE_FRAMES as usize * FRAME_SAMPLES) as i32;
        let start = run as usize * FRAME_SAMPLES;
        for (i, (o, &s)) in out.iter_mut().zip(&self.last).enumerate() {
            let gain = ((total - (start + i) as i32) << 16) / total;
            *o = ((s as i32 * gain) >> 16) as i16;
        }
        self.run = Some(run + 1);
        FrameKind::Concealed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_with_falling_gain_then_goes_silent() {
        let mut c = Concealer::default();
        let mut out = [0; FRAME_SAMPLES];
        assert_eq!(c.conceal(&mut out), FrameKind::Silence);
        c.on_audio(&[9000; FRAME_SAMPLES]);
        let mut peaks = vec![];
        for _ in 0..FADE_FRAMES {
            assert_eq!(c.conceal(&mut out), FrameKind::Concealed);
            assert!(out.windows(2).all(|w| w[1] <= w[0]));
            peaks.push(out[0]);
        }
        assert_eq!(peaks, vec![9000, 5999, 2999]); // Q16 gain rounds down
        assert!(out[FRAME_SAMPLES - 1] < 100);
        assert_eq!(c.conceal(&mut out), FrameKind::Silence);
        assert_eq!(out, [0; FRAME_SAMPLES]);
    }
}
