//! `TalkDetector`: who is talking, from each 20 ms frame's level, with hysteresis so a
//! word's pauses do not flicker the indicator: talking after [`START_FRAMES`] loud frames
//! in a row, quiet again after [`STOP_FRAMES`] frames below the threshold.

/// Loud frames in a row before a participant counts as talking (60 ms).
pub const START_FRAMES: u8 = 3;
/// Quiet frames in a row before they count as silent again (800 ms).
pub const STOP_FRAMES: u16 = 40;
/// Mean absolute sample value (16-bit) above which a frame is loud: about −40 dBFS, above
/// line noise and comfort noise, below quiet speech.
pub const TALK_LEVEL: u16 = 300;

/// The talking state of one participant.
#[derive(Clone, Copy, Debug, Default)]
pub struct TalkDetector {
    loud: u8,
    quiet: u16,
    talking: bool,
}

impl TalkDetector {
    /// Takes one frame's level ([`frame_level`]; 0 for a frame that is not mixed); returns
    /// the new state when it changes.
    pub fn frame(&mut self, level: u16) -> Option<bool> {
        if level >= TALK_LEVEL {
            self.quiet = 0;
            self.loud = self.loud.saturating_add(1);
            if !self.talking && self.loud >= START_FRAMES {
                self.talking = true;
                return Some(true);
            }
        } else {
            self.loud = 0;
            self.quiet = self.quiet.saturating_add(1);
            if self.talking && self.quiet >= STOP_FRAMES {
                self.talking = false;
                return Some(false);
            }
        }
        None
    }

    pub fn is_talking(&self) -> bool {
        self.talking
    }
}

/// The mean absolute sample value of a frame.
pub fn frame_level(frame: &[i16]) -> u16 {
    if frame.is_empty() {
        return 0;
    }
    let sum: u32 = frame.iter().map(|s| u32::from(s.unsigned_abs())).sum();
    u16::try_from(sum / frame.len() as u32).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_starts_after_60_ms_and_pauses_do_not_flicker() {
        let mut t = TalkDetector::default();
        assert_eq!(t.frame(2000), None);
        assert_eq!(t.frame(2000), None);
        assert_eq!(t.frame(2000), Some(true));
        // A 400 ms pause between words keeps the state.
        for _ in 0..20 {
            assert_eq!(t.frame(10), None);
        }
        assert_eq!(t.frame(2000), None);
        for _ in 0..STOP_FRAMES - 1 {
            assert_eq!(t.frame(0), None);
        }
        assert_eq!(t.frame(0), Some(false));
        assert!(!t.is_talking());
    }

    #[test]
    fn a_single_click_is_not_talking() {
        let mut t = TalkDetector::default();
        for _ in 0..10 {
            assert_eq!(t.frame(5000), None);
            assert_eq!(t.frame(5000), None);
            assert_eq!(t.frame(0), None);
        }
        assert!(!t.is_talking());
    }

    #[test]
    fn levels_are_mean_absolute_values() {
        assert_eq!(frame_level(&[100, -300, 200, -400]), 250);
        assert_eq!(frame_level(&[i16::MIN; 4]), 32768);
        assert_eq!(frame_level(&[]), 0);
    }
}
