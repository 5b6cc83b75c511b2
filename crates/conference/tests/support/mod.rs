//! A scripted caller and driver for the voice menu, on virtual time.

#![allow(dead_code)] // each test file uses a different part

pub mod net;
pub mod room;

use std::time::{Duration, Instant};

use konferenz_conference::*;

/// Prompt `phrase` in English.
pub fn en(phrase: Phrase) -> PromptId {
    phrase.in_language(Language::English)
}

/// Prompt `phrase` in German.
pub fn de(phrase: Phrase) -> PromptId {
    phrase.in_language(Language::German)
}

pub fn room(number: &str) -> RoomNumber {
    RoomNumber::parse(number).unwrap()
}

pub fn pin(digits: &str) -> Pin {
    Pin::parse(digits).unwrap()
}

/// A room with a PIN, dialled directly.
pub fn with_pin(number: &str) -> Entry {
    Entry::Room {
        room: room(number),
        pin_required: true,
    }
}

/// One call's menu with the driver's side played by the test: it records what the menu
/// asked for and tracks the prompt playing.
pub struct Call {
    pub menu: Menu,
    pub t0: Instant,
    pub now: Instant,
    pub playing: Option<PromptId>,
}

impl Call {
    pub fn new(entry: Entry, config: MenuConfig) -> Self {
        let t0 = Instant::now();
        Self {
            menu: Menu::new(entry, config),
            t0,
            now: t0,
            playing: None,
        }
    }

    /// Answers the call; returns what the menu asks for at once.
    pub fn start(entry: Entry) -> (Self, Vec<Output>) {
        Self::start_with(entry, MenuConfig::default())
    }

    pub fn start_with(entry: Entry, config: MenuConfig) -> (Self, Vec<Output>) {
        let mut call = Self::new(entry, config);
        call.menu.start(call.now);
        let out = call.drain();
        (call, out)
    }

    /// Seconds since the call was answered.
    pub fn elapsed(&self) -> f64 {
        (self.now - self.t0).as_secs_f64()
    }

    pub fn drain(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        while let Some(o) = self.menu.poll_output() {
            match &o {
                Output::Play(p) => {
                    assert!(
                        self.playing.is_none(),
                        "Play while {:?} plays",
                        self.playing
                    );
                    self.playing = Some(*p);
                }
                Output::StopPrompt => {
                    assert!(
                        self.playing.take().is_some(),
                        "StopPrompt with nothing playing"
                    )
                }
                Output::Join { .. } | Output::HangUp(_) => {
                    assert!(self.playing.is_none(), "{o:?} while a prompt plays");
                }
                Output::CheckPin(_) => {}
            }
            out.push(o);
        }
        out
    }

    /// The caller presses these keys, all at the current time.
    pub fn keys(&mut self, keys: &str) -> Vec<Output> {
        let mut out = Vec::new();
        for key in keys.chars() {
            self.menu.digit(self.now, key);
            out.extend(self.drain());
        }
        out
    }

    /// The prompt playing ends.
    pub fn finish_prompt(&mut self) -> Vec<Output> {
        assert!(self.playing.take().is_some(), "no prompt playing");
        self.menu.prompt_finished(self.now);
        self.drain()
    }

    /// Lets every prompt play to its end (each taking no time); returns what was asked.
    pub fn listen(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        while self.playing.is_some() {
            out.extend(self.finish_prompt());
        }
        out
    }

    /// Time passes by `secs`, firing the menu's timers on time.
    pub fn wait(&mut self, secs: f64) -> Vec<Output> {
        let until = self.now + Duration::from_secs_f64(secs);
        let mut out = Vec::new();
        while let Some(at) = self.menu.poll_timeout().filter(|&at| at <= until) {
            self.now = self.now.max(at);
            self.menu.handle_timeout(self.now);
            out.extend(self.drain());
        }
        self.now = until;
        out
    }

    /// Answers the pending `CheckPin`.
    pub fn verdict(&mut self, verdict: PinVerdict) -> Vec<Output> {
        self.menu.pin_checked(self.now, verdict);
        self.drain()
    }
}

/// The prompts among the outputs.
pub fn played(outputs: &[Output]) -> Vec<PromptId> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Play(p) => Some(*p),
            _ => None,
        })
        .collect()
}

/// The PIN asked for among the outputs, in clear.
pub fn checked(outputs: &[Output]) -> Option<String> {
    outputs.iter().find_map(|o| match o {
        Output::CheckPin(p) => Some(p.reveal().to_owned()),
        _ => None,
    })
}
