//! `PromptSet`: every recording a room plays — the voice menu's prompts by [`PromptId`],
//! the join and leave tones, and a stand-in for a prompt without a recording. Plain data:
//! the server decodes the files once at start and shares the set.

use std::collections::HashMap;

use konferenz_media::Prompt;

use crate::prompt::PromptId;

/// The recordings rooms play.
#[derive(Debug)]
pub struct PromptSet {
    prompts: HashMap<PromptId, Prompt>,
    fallback: Prompt,
    /// The default on-hold music (a room may have its own).
    pub music: Prompt,
    pub join_tone: Prompt,
    pub leave_tone: Prompt,
}

impl PromptSet {
    /// A set of decoded recordings; `fallback` plays for an id without one.
    pub fn new(
        prompts: HashMap<PromptId, Prompt>,
        fallback: Prompt,
        music: Prompt,
        join_tone: Prompt,
        leave_tone: Prompt,
    ) -> Self {
        Self {
            prompts,
            fallback,
            music,
            join_tone,
            leave_tone,
        }
    }

    /// Constant-level stand-ins: every prompt is 100 ms of `prompt_level`, music
    /// `music_level`, the tones `join_level`/`leave_level` — so tests can tell them apart.
    pub fn constant(
        prompt_level: i16,
        music_level: i16,
        join_level: i16,
        leave_level: i16,
    ) -> Self {
        let constant = |level: i16, ms: usize| {
            let samples = ms * konferenz_media::SAMPLE_RATE as usize / 1000;
            Prompt::from_samples(vec![level; samples])
        };
        Self::new(
            HashMap::new(),
            constant(prompt_level, 100),
            constant(music_level, 1000),
            constant(join_level, 100),
            constant(leave_level, 100),
        )
    }

    /// The recording of `id` (the stand-in if it has none).
    pub fn get(&self, id: PromptId) -> Prompt {
        self.prompts
            .get(&id)
            .cloned()
            .unwrap_or_else(|| self.fallback.clone())
    }

    /// Whether `id` has a recording of its own (not the stand-in).
    pub fn has(&self, id: PromptId) -> bool {
        self.prompts.contains_key(&id)
    }

    /// How many prompts have a recording.
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    /// Whether no prompt has a recording.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }
}
