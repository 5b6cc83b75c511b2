//! The prompt library: every recording the voice menu and the rooms play, decoded to 8 kHz
//! once at start-up and shared (cheap `Arc` clones). An administrator's folder
//! (`prompts.directory`) overrides the built-in set file by file; a missing or unreadable
//! file is logged by name and replaced by a short tone, and the server starts anyway.

use std::collections::HashMap;
use std::path::Path;

use konferenz_conference::{PromptId, PromptSet};
use konferenz_media::{Prompt, decode_wav, join_tone, leave_tone};
use tracing::{info, warn};

use crate::config::PromptsConfig;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/prompts.rs"));
}

/// The on-hold music's path below the prompt folders.
const MUSIC: &str = "music/on-hold.wav";

/// Everything callers may hear, ready to play (the rooms' [`PromptSet`]).
pub type PromptLibrary = PromptSet;

/// Loads every prompt: the override folder first, then the built-in recording.
pub fn load(config: &PromptsConfig) -> PromptSet {
    let dir = config.directory.as_deref();
    let mut prompts = HashMap::new();
    let mut missing = 0;
    for id in PromptId::all() {
        match load_one(dir, &id.relative_path()) {
            Some(prompt) => {
                prompts.insert(id, prompt);
            }
            None => missing += 1,
        }
    }
    if missing > 0 {
        warn!(
            missing,
            "prompts without a recording play a short tone instead"
        );
    }
    let music = match &config.music {
        Some(path) => read_file(path),
        None => load_one(dir, MUSIC),
    };
    let music = music.unwrap_or_else(|| {
        warn!(file = MUSIC, "no on-hold music; callers alone hear silence");
        Prompt::silence(std::time::Duration::from_millis(20))
    });
    info!(
        prompts = prompts.len(),
        music_secs = music.duration().as_secs(),
        "prompts loaded"
    );
    PromptSet::new(
        prompts,
        Prompt::tone_fallback(),
        music,
        join_tone(),
        leave_tone(),
    )
}

/// One recording by its path below the prompt folders: the override, else built-in.
fn load_one(dir: Option<&Path>, relative: &str) -> Option<Prompt> {
    if let Some(dir) = dir {
        let path = dir.join(relative);
        if path.exists()
            && let Some(prompt) = read_file(&path)
        {
            return Some(prompt);
        }
    }
    let bytes = embedded::EMBEDDED.iter().find(|(p, _)| *p == relative)?.1;
    match decode_wav(bytes) {
        Ok(prompt) => Some(prompt),
        Err(error) => {
            warn!(file = relative, %error, "built-in recording unreadable");
            None
        }
    }
}

fn read_file(path: &Path) -> Option<Prompt> {
    let result = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| decode_wav(&bytes).map_err(|e| e.to_string()));
    match result {
        Ok(prompt) => Some(prompt),
        Err(error) => {
            warn!(file = %path.display(), %error, "cannot use this recording");
            None
        }
    }
}

/// `konferenz prompts list`: every recording's path and default text, for the script
/// that generates the built-in set.
pub fn list() -> String {
    let mut out = String::new();
    for id in PromptId::all() {
        out.push_str(&format!("{}\t{}\n", id.relative_path(), id.default_text()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_set_covers_every_prompt_and_the_music() {
        let library = load(&PromptsConfig::default());
        let missing: Vec<String> = PromptId::all()
            .filter(|id| !library.has(*id))
            .map(|id| id.relative_path())
            .collect();
        assert!(
            missing.is_empty(),
            "no recording for {missing:?}; run scripts/make-prompts"
        );
        assert!(library.music.duration().as_secs() >= 10);
    }

    #[test]
    fn override_folder_wins_and_a_broken_file_falls_back() {
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        let id = konferenz_conference::Phrase::Goodbye
            .in_language(konferenz_conference::Language::English);
        // A 48 kHz stereo file: converted on load.
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.path().join(id.relative_path()), spec).unwrap();
        for _ in 0..48_000 {
            w.write_sample(1000i16).unwrap();
            w.write_sample(1000i16).unwrap();
        }
        w.finalize().unwrap();
        let broken = konferenz_conference::Phrase::InvalidPin
            .in_language(konferenz_conference::Language::English);
        std::fs::write(dir.path().join(broken.relative_path()), b"not a wav").unwrap();
        let config = PromptsConfig {
            directory: Some(dir.path().to_owned()),
            ..PromptsConfig::default()
        };
        let library = load(&config);
        assert_eq!(
            library.get(id).len(),
            16000,
            "1 s (an 8 kHz file) played at 16 kHz"
        );
        let built_in = load(&PromptsConfig::default()).get(broken);
        assert_eq!(
            library.get(broken).len(),
            built_in.len(),
            "unreadable override → built-in"
        );
    }
}
