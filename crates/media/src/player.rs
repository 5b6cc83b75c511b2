//! Frame-by-frame playback of [`Prompt`]s: [`PromptPlayer`] plays a queue of prompts one
//! after the other (a menu's "you are now in the conference" + "three" + "other
//! participants"), [`LoopPlayer`] loops one prompt seamlessly (on-hold music).
//!
//! Both fill a caller-owned [`Frame`] and never allocate: the queue is a fixed ring of
//! [`PROMPT_QUEUE`] slots and prompts are shared `Arc`s, so queueing one only bumps a count.

use crate::{FRAME_SAMPLES, Frame, Prompt};

/// How many prompts a [`PromptPlayer`] holds at once (playing one included).
pub const PROMPT_QUEUE: usize = 16;

/// Plays a queue of prompts back to back, gap-free, 20 ms at a time.
#[derive(Debug, Default)]
pub struct PromptPlayer {
    queue: [Option<Prompt>; PROMPT_QUEUE],
    head: usize,
    len: usize,
    /// Next sample of the prompt at `head`.
    pos: usize,
}

impl PromptPlayer {
    /// An idle player.
    pub fn new() -> PromptPlayer {
        PromptPlayer::default()
    }

    /// Queues `prompt` after whatever is queued. A full queue hands the prompt back.
    pub fn enqueue(&mut self, prompt: Prompt) -> Result<(), Prompt> {
        if self.len == PROMPT_QUEUE {
            return Err(prompt);
        }
        self.queue[(self.head + self.len) % PROMPT_QUEUE] = Some(prompt);
        self.len += 1;
        Ok(())
    }

    /// Writes the next 20 ms into `out`. Returns true while prompt audio was written (the
    /// end of the last prompt is padded with silence); false, with `out` silent, once the
    /// queue has run out. The first `false` after `true` is the "prompt finished" moment.
    pub fn next_frame(&mut self, out: &mut Frame) -> bool {
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            let Some(prompt) = &self.queue[self.head] else {
                break;
            };
            let rest = &prompt.samples()[self.pos.min(prompt.len())..];
            let n = rest.len().min(FRAME_SAMPLES - filled);
            out[filled..filled + n].copy_from_slice(&rest[..n]);
            filled += n;
            self.pos += n;
            if self.pos >= prompt.len() {
                self.pop();
            }
        }
        out[filled..].fill(0);
        filled > 0
    }

    /// Drops the playing prompt and everything queued (a digit typed during a prompt).
    pub fn stop(&mut self) {
        while self.len > 0 {
            self.pop();
        }
    }

    /// True when nothing is playing or queued.
    pub fn is_idle(&self) -> bool {
        self.len == 0
    }

    /// Whether `prompt` (the same recording) is playing or queued.
    pub fn holds(&self, prompt: &Prompt) -> bool {
        (0..self.len).any(|k| {
            self.queue[(self.head + k) % PROMPT_QUEUE]
                .as_ref()
                .is_some_and(|q| q.is(prompt))
        })
    }

    /// Number of prompts playing or queued.
    pub fn queued(&self) -> usize {
        self.len
    }

    fn pop(&mut self) {
        if self.len == 0 {
            return;
        }
        self.queue[self.head] = None;
        self.head = (self.head + 1) % PROMPT_QUEUE;
        self.len -= 1;
        self.pos = 0;
    }
}

/// Loops one prompt without a gap, for on-hold music.
#[derive(Debug, Clone)]
pub struct LoopPlayer {
    prompt: Prompt,
    pos: usize,
}

impl LoopPlayer {
    /// Starts at the beginning of `prompt`. An empty prompt plays silence.
    pub fn new(prompt: Prompt) -> LoopPlayer {
        LoopPlayer { prompt, pos: 0 }
    }

    /// Writes the next 20 ms into `out`, wrapping to the start as often as needed.
    pub fn next_frame(&mut self, out: &mut Frame) {
        let samples = self.prompt.samples();
        if samples.is_empty() {
            out.fill(0);
            return;
        }
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            let rest = &samples[self.pos..];
            let n = rest.len().min(FRAME_SAMPLES - filled);
            out[filled..filled + n].copy_from_slice(&rest[..n]);
            filled += n;
            self.pos = (self.pos + n) % samples.len();
        }
    }

    /// Goes back to the start (when music resumes for a new lonely stretch).
    pub fn rewind(&mut self) {
        self.pos = 0;
    }

    /// The prompt being looped.
    pub fn prompt(&self) -> &Prompt {
        &self.prompt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(samples: std::ops::Range<i16>) -> Prompt {
        Prompt::from_samples(samples.collect::<Vec<_>>())
    }

    #[test]
    fn prompt_player_plays_a_queue_back_to_back_then_goes_idle() {
        let mut player = PromptPlayer::new();
        assert!(player.is_idle());
        player.enqueue(prompt(1..201)).unwrap();
        player.enqueue(prompt(201..601)).unwrap();
        let mut out = [0i16; FRAME_SAMPLES];
        let mut played = Vec::new();
        while player.next_frame(&mut out) {
            played.extend_from_slice(&out);
        }
        assert_eq!(played.len(), 2 * FRAME_SAMPLES);
        assert_eq!(&played[..600], &(1..601).collect::<Vec<i16>>()[..]);
        assert!(played[600..].iter().all(|&s| s == 0));
        assert!(player.is_idle());
        assert!(out.iter().all(|&s| s == 0));
    }

    #[test]
    fn holds_finds_the_same_recording_only_while_queued() {
        let tone = prompt(1..161);
        let lookalike = prompt(1..161);
        let mut player = PromptPlayer::new();
        assert!(!player.holds(&tone));
        player.enqueue(tone.clone()).unwrap();
        assert!(player.holds(&tone) && !player.holds(&lookalike));
        let mut out = [0i16; FRAME_SAMPLES];
        player.next_frame(&mut out);
        assert!(!player.holds(&tone), "played out");
    }

    #[test]
    fn stop_interrupts_and_a_full_queue_hands_the_prompt_back() {
        let mut player = PromptPlayer::new();
        for _ in 0..PROMPT_QUEUE {
            player.enqueue(prompt(1..2001)).unwrap();
        }
        assert!(player.enqueue(prompt(1..2)).is_err());
        assert_eq!(player.queued(), PROMPT_QUEUE);
        let mut out = [0i16; FRAME_SAMPLES];
        assert!(player.next_frame(&mut out));
        player.stop();
        assert!(player.is_idle());
        assert!(!player.next_frame(&mut out));
        player.enqueue(Prompt::from_samples(Vec::new())).unwrap();
        assert!(
            !player.next_frame(&mut out),
            "an empty prompt plays as nothing"
        );
    }

    #[test]
    fn loop_player_wraps_seamlessly() {
        let mut player = LoopPlayer::new(prompt(0..250));
        let mut out = [0i16; FRAME_SAMPLES];
        let mut played = Vec::new();
        for _ in 0..10 {
            player.next_frame(&mut out);
            played.extend_from_slice(&out);
        }
        assert!(
            played
                .iter()
                .enumerate()
                .all(|(i, &s)| s == (i % 250) as i16)
        );
        player.rewind();
        player.next_frame(&mut out);
        assert_eq!(out[0], 0);
        let mut silent = LoopPlayer::new(Prompt::from_samples(Vec::new()));
        silent.next_frame(&mut out);
        assert!(out.iter().all(|&s| s == 0));
    }
}
