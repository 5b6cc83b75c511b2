//! The room mixer: each participant hears the sum of everyone else who is talking
//! (total − own), summed in `i32` and clipped to 16 bits once.

use crate::{FRAME_SAMPLES, Frame};

/// Mixes a room: every participant hears the sum of all others (sum − own), summed in
/// wide integers and clipped once. Holds its scratch space; `mix` never allocates.
pub struct Mixer {
    total: [i32; FRAME_SAMPLES],
    capacity: usize,
}

impl Mixer {
    /// A mixer for up to `capacity` participants without reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        Mixer {
            total: [0; FRAME_SAMPLES],
            capacity,
        }
    }

    /// The number of participants this mixer was sized for (it needs no per-participant
    /// scratch, so any number works).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// `outputs[i]` = clip(Σ inputs[j] for j ≠ i where `talking[j]`). `inputs`, `talking` and
    /// `outputs` have equal lengths; a participant with `talking[j] == false` (muted or
    /// silent) contributes nothing. Extra entries of a longer slice are ignored.
    pub fn mix(&mut self, inputs: &[Frame], talking: &[bool], outputs: &mut [Frame]) {
        let total = &mut self.total;
        total.fill(0);
        for (input, _) in inputs.iter().zip(talking).filter(|(_, t)| **t) {
            for (t, &s) in total.iter_mut().zip(input) {
                // Wrapping: i32 holds 65 536 full-scale talkers; beyond that, never panic.
                *t = t.wrapping_add(s as i32);
            }
        }
        for ((out, input), &talks) in outputs.iter_mut().zip(inputs).zip(talking) {
            if talks {
                for ((o, &t), &s) in out.iter_mut().zip(total.iter()).zip(input) {
                    *o = clip(t.wrapping_sub(s as i32));
                }
            } else {
                for (o, &t) in out.iter_mut().zip(total.iter()) {
                    *o = clip(t);
                }
            }
        }
    }
}

#[inline]
fn clip(v: i32) -> i16 {
    v.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: i16) -> Frame {
        [v; FRAME_SAMPLES]
    }

    #[test]
    fn three_participants_hear_exactly_the_others() {
        let mut m = Mixer::with_capacity(3);
        let mut inputs = [frame(0); 3];
        for (i, f) in inputs.iter_mut().enumerate() {
            for (k, s) in f.iter_mut().enumerate() {
                *s = (i as i16 + 1) * 100 + k as i16;
            }
        }
        let mut out = [frame(0); 3];
        m.mix(&inputs, &[true; 3], &mut out);
        for (i, heard) in out.iter().enumerate() {
            for k in 0..FRAME_SAMPLES {
                let expected: i32 = (0..3)
                    .filter(|&j| j != i)
                    .map(|j| inputs[j][k] as i32)
                    .sum();
                assert_eq!(heard[k] as i32, expected);
            }
        }
    }

    #[test]
    fn sums_clip_at_the_ends_of_the_range() {
        let mut m = Mixer::with_capacity(3);
        let mut out = [frame(0); 3];
        m.mix(
            &[frame(30000), frame(30000), frame(30000)],
            &[true; 3],
            &mut out,
        );
        assert_eq!(out, [frame(i16::MAX); 3]);
        m.mix(
            &[frame(-30000), frame(-30000), frame(-30000)],
            &[true; 3],
            &mut out,
        );
        assert_eq!(out, [frame(i16::MIN); 3]);
        // Clipped once, after summing: +30000 +30000 −30000 is not clipped on the way.
        m.mix(
            &[frame(30000), frame(30000), frame(-30000), frame(0)],
            &[true; 4],
            &mut [frame(0); 4],
        );
        let mut out4 = [frame(1); 4];
        m.mix(
            &[frame(30000), frame(30000), frame(-30000), frame(0)],
            &[true; 4],
            &mut out4,
        );
        assert_eq!(out4[3], frame(30000));
    }

    #[test]
    fn a_participant_who_is_not_talking_contributes_nothing() {
        let mut m = Mixer::with_capacity(3);
        let mut out = [frame(7); 3];
        m.mix(
            &[frame(100), frame(1000), frame(10)],
            &[true, false, true],
            &mut out,
        );
        assert_eq!(out[0], frame(10));
        assert_eq!(out[1], frame(110));
        assert_eq!(out[2], frame(100));
    }

    #[test]
    fn mismatched_lengths_do_not_panic() {
        let mut m = Mixer::with_capacity(0);
        let mut out = [frame(7); 1];
        m.mix(&[frame(1), frame(2)], &[true], &mut out);
        assert_eq!(out[0], frame(0));
        m.mix(&[], &[], &mut []);
    }
}
