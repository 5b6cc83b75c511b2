//! Adaptive jitter buffer: frames keyed by extended sequence number, played one per 20 ms
//! tick. It reorders, drops duplicates and late packets, and steers its depth towards a
//! target of 1–10 frames (20–200 ms): the minimum depth seen over each one-second window is
//! compared with the target, and one frame is dropped (too deep: sender clock fast, jitter
//! gone) or one concealed frame inserted (too shallow: sender clock slow, jitter grown),
//! preferably where the audio is quiet. Running dry conceals and refills to the target.

use crate::codec::{Decoder, MAX_PAYLOAD};
use crate::{FRAME_SAMPLES, Frame, FrameKind};

/// Ring size; a power of two larger than the deepest the buffer may get.
const SLOTS: usize = 32;
/// Target depth bounds in frames (20–200 ms).
pub const MIN_TARGET: u32 = 1;
pub const MAX_TARGET: u32 = 10;
const INITIAL_TARGET: u32 = 2;
/// Pulls per depth-measurement window (1 s).
const WINDOW: u32 = 50;
/// Pulls a pending correction waits for a quiet frame before it is made anyway (3 s).
const MAX_WAIT_FOR_QUIET: u32 = 150;
/// Mean absolute sample value below which a frame counts as quiet (about −38 dBFS).
const QUIET: u16 = 400;
/// Pulls without trouble after which the target shrinks by one frame (20 s).
const DECAY: u32 = 1000;
/// Two underruns closer than this (60 s) mean jitter, not clock drift: grow the target.
const UNDERRUN_MEMORY: u32 = 3000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Content {
    Empty,
    Audio,
    /// Present in the sequence but not audio (telephone-event, comfort noise).
    NotAudio,
}

/// One packet, decoded when it is played (codecs keep state across frames, so they must
/// see the packets in order); its payload is in the buffer's `payloads`, at the slot's
/// index times the capacity.
struct Slot {
    ext: i64,
    content: Content,
    len: u16,
}

/// What happened to an inserted packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    Stored,
    Duplicate,
    Late,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting until `target` frames are buffered; `after_dry` if playback ran dry.
    Prefill {
        after_dry: bool,
    },
    Playing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Correction {
    None,
    Drop(u32),
    Stretch(u32),
}

/// The jitter buffer of one leg.
pub struct JitterBuffer {
    slots: Box<[Slot; SLOTS]>,
    /// `SLOTS` payloads of `capacity` bytes each, allocated once.
    payloads: Box<[u8]>,
    capacity: usize,
    /// Extended sequence number of the next frame to play; `None` before the first packet.
    next: Option<i64>,
    highest: i64,
    state: State,
    target: u32,
    /// Whether anything was played since the last reset (before that, `next` may move back).
    played: bool,
    last_quiet: bool,
    window_pulls: u32,
    window_min: u32,
    correction: Correction,
    pulls: u32,
    last_trouble: u32,
    last_underrun: Option<u32>,
    /// Frames concealed since playback ran dry: if the stream resumes *after* a gap, those
    /// frames stood in for the lost ones and are skipped, so a loss adds no delay.
    dry: u32,
    /// Bounds of `target` in frames (configurable, within 1..=MAX_CONFIGURABLE).
    min_target: u32,
    max_target: u32,
}

/// The largest target the slot ring can hold with room for reordering.
pub const MAX_CONFIGURABLE: u32 = (SLOTS as u32) / 2;

impl Default for JitterBuffer {
    fn default() -> Self {
        JitterBuffer {
            slots: Box::new(std::array::from_fn(|_| Slot {
                ext: -1,
                content: Content::Empty,
                len: 0,
            })),
            payloads: vec![0; SLOTS * MAX_PAYLOAD].into_boxed_slice(),
            capacity: MAX_PAYLOAD,
            next: None,
            highest: 0,
            state: State::Prefill { after_dry: false },
            target: INITIAL_TARGET,
            played: false,
            last_quiet: true,
            window_pulls: 0,
            window_min: u32::MAX,
            correction: Correction::None,
            pulls: 0,
            last_trouble: 0,
            last_underrun: None,
            dry: 0,
            min_target: MIN_TARGET,
            max_target: MAX_TARGET,
        }
    }
}

impl JitterBuffer {
    /// A buffer for payloads of at most `capacity` bytes (a codec's largest 20 ms packet;
    /// longer ones are not kept and play as lost).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, MAX_PAYLOAD);
        JitterBuffer {
            payloads: vec![0; SLOTS * capacity].into_boxed_slice(),
            capacity,
            ..JitterBuffer::default()
        }
    }

    /// The target-depth bounds in frames.
    pub fn bounds(&self) -> (u32, u32) {
        (self.min_target, self.max_target)
    }

    /// Sets the target-depth bounds in frames; clamped to 1..=[`MAX_CONFIGURABLE`], min ≤ max.
    pub fn set_bounds(&mut self, min_frames: u32, max_frames: u32) {
        self.min_target = min_frames.clamp(MIN_TARGET, MAX_CONFIGURABLE);
        self.max_target = max_frames.clamp(self.min_target, MAX_CONFIGURABLE);
        self.target = self.target.clamp(self.min_target, self.max_target);
    }

    /// Forgets all frames (a new stream starts); keeps the learned target.
    pub fn reset(&mut self) {
        self.next = None;
        self.state = State::Prefill { after_dry: false };
        self.played = false;
        self.correction = Correction::None;
        self.reset_window();
    }

    /// Target depth in frames.
    pub fn target(&self) -> u32 {
        self.target
    }

    /// Frames between the next one to play and the highest received, gaps included.
    pub fn depth(&self) -> u32 {
        self.next
            .map_or(0, |n| (self.highest - n + 1).max(0) as u32)
    }

    /// Stores a packet: an audio payload if `audio`, otherwise a non-audio placeholder.
    /// `marker` flags the start of a talkspurt (RFC 3551 §4.1). A payload longer than
    /// [`MAX_PAYLOAD`] is cut (and then concealed by the decoder).
    pub fn insert(&mut self, ext: i64, marker: bool, audio: bool, payload: &[u8]) -> Insert {
        let next = match self.next {
            None => {
                self.highest = ext;
                ext
            }
            Some(n) if ext < n => {
                if !self.played && self.highest - ext < SLOTS as i64 {
                    ext // still prefilling the first talkspurt: start earlier
                } else {
                    if n - ext <= self.max_target as i64 {
                        self.grow_target();
                    }
                    return Insert::Late;
                }
            }
            Some(n) if ext - n >= SLOTS as i64 => {
                // Far ahead (a long gap): start over from here.
                self.state = State::Prefill { after_dry: false };
                self.correction = Correction::None;
                self.highest = ext;
                ext
            }
            Some(n) => n,
        };
        if matches!(self.state, State::Prefill { after_dry: true }) && ext == next && !marker {
            // The expected packet came late rather than a talkspurt ending: that is jitter.
            self.state = State::Prefill { after_dry: false };
            self.on_underrun();
        }
        let index = ext as usize % SLOTS;
        let slot = &mut self.slots[index];
        if slot.ext == ext && slot.content != Content::Empty {
            return Insert::Duplicate;
        }
        slot.ext = ext;
        if audio && payload.len() <= self.capacity {
            let at = index * self.capacity;
            self.payloads[at..at + payload.len()].copy_from_slice(payload);
            slot.len = payload.len() as u16;
            slot.content = Content::Audio;
        } else if audio {
            // Too long for the codec: held as a gap (concealed when played).
            slot.content = Content::Empty;
            return Insert::Late;
        } else {
            slot.len = 0;
            slot.content = Content::NotAudio;
        }
        self.next = Some(next);
        self.highest = self.highest.max(ext);
        Insert::Stored
    }

    /// Plays the next 20 ms into `out`.
    pub fn pull(&mut self, out: &mut Frame, decoder: &mut Decoder) -> FrameKind {
        self.pulls = self.pulls.wrapping_add(1);
        if self.pulls.wrapping_sub(self.last_trouble) >= DECAY {
            self.last_trouble = self.pulls;
            self.target = (self.target - 1).max(self.min_target);
        }
        let Some(mut next) = self.next else {
            return decoder.conceal(out);
        };
        let mut depth = self.depth();
        if depth > self.max_target {
            // Too much buffered at once (a burst after an outage): keep only the target.
            next = self.highest - self.target as i64 + 1;
            depth = self.target;
        }
        if let State::Prefill { after_dry } = self.state {
            if depth < self.target {
                self.next = Some(next);
                if after_dry {
                    self.dry += 1;
                }
                return decoder.conceal(out);
            }
            if after_dry {
                // Frames missing at the head while later ones are here were lost: the
                // concealment already played stood in for them.
                while self.dry > 0 && next < self.highest && self.slot(next).is_none() {
                    next += 1;
                    self.dry -= 1;
                }
                depth = (self.highest - next + 1).max(0) as u32;
            }
            self.dry = 0;
            self.state = State::Playing;
            self.reset_window();
        }
        if depth == 0 {
            self.state = State::Prefill { after_dry: true };
            self.dry = 1;
            return decoder.conceal(out);
        }
        self.measure(depth);
        match self.correction {
            Correction::Drop(waited) if depth >= 2 => {
                // Dropped where the talker is quiet (judged by the frame just played).
                if self.last_quiet || self.slot(next).is_none() || waited >= MAX_WAIT_FOR_QUIET {
                    next += 1;
                    self.correction = Correction::None;
                } else {
                    self.correction = Correction::Drop(waited + 1);
                }
            }
            Correction::Stretch(waited) => {
                if self.last_quiet || waited >= MAX_WAIT_FOR_QUIET {
                    self.correction = Correction::None;
                    self.next = Some(next);
                    return decoder.conceal(out);
                }
                self.correction = Correction::Stretch(waited + 1);
            }
            _ => {}
        }
        self.next = Some(next + 1);
        self.played = true;
        match self.slot(next) {
            Some(slot) if slot.content == Content::Audio => {
                let at = (next as usize % SLOTS) * self.capacity;
                let kind = decoder.decode(&self.payloads[at..at + slot.len as usize], out);
                let sum: u32 = out.iter().map(|s| s.unsigned_abs() as u32).sum();
                self.last_quiet = sum / (FRAME_SAMPLES as u32) < QUIET as u32;
                kind
            }
            Some(_) => {
                out.fill(0);
                self.last_quiet = true;
                decoder.reset_concealment();
                FrameKind::Silence
            }
            None => decoder.conceal(out),
        }
    }

    fn slot(&self, ext: i64) -> Option<&Slot> {
        let slot = &self.slots[ext as usize % SLOTS];
        (slot.ext == ext && slot.content != Content::Empty).then_some(slot)
    }

    /// Tracks the shallowest depth of the window and decides on a correction at its end.
    fn measure(&mut self, depth: u32) {
        self.window_min = self.window_min.min(depth);
        self.window_pulls += 1;
        if self.window_pulls < WINDOW {
            return;
        }
        if self.correction == Correction::None {
            self.correction = match self.window_min.cmp(&self.target) {
                std::cmp::Ordering::Greater => Correction::Drop(0),
                std::cmp::Ordering::Less => Correction::Stretch(0),
                std::cmp::Ordering::Equal => Correction::None,
            };
        }
        self.reset_window();
    }

    fn reset_window(&mut self) {
        self.window_pulls = 0;
        self.window_min = u32::MAX;
    }

    /// Playback ran dry although the stream went on. A single underrun now and then is the
    /// sender's clock running slow; repeated ones are jitter and grow the target.
    fn on_underrun(&mut self) {
        if self
            .last_underrun
            .is_some_and(|t| self.pulls.wrapping_sub(t) < UNDERRUN_MEMORY)
        {
            self.grow_target();
        }
        self.last_underrun = Some(self.pulls);
    }

    fn grow_target(&mut self) {
        self.target = (self.target + 1).min(self.max_target);
        self.last_trouble = self.pulls;
    }
}
