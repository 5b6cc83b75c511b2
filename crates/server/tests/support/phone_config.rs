//! baresip configuration for a test phone: the `config` and `accounts` files.
//!
//! Lines that matter (baresip 1.0.0, Debian 12): codec modules before `account.so` (else
//! `audio_codecs=` is rejected), `menu.so` loaded (it provides the ctrl_tcp commands
//! dial/hangup/sndcode/quit), `audio_player alsa,null` (aufile has no player in 1.0.0),
//! `sndfile.so` records heard/sent audio into `snd_path`.

use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
    /// Wideband G.722 (baresip's g722.so, spandsp).
    G722,
    /// Opus (baresip's opus.so, libopus).
    Opus,
}

impl Codec {
    /// The name in baresip's `audio_codecs=` and in its "Set audio encoder" log line.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
            Codec::Opus => "opus",
        }
    }

    /// The codec in baresip's `audio_codecs=` (name/rate/channels where it is ambiguous).
    fn account_name(self) -> &'static str {
        match self {
            Codec::G722 => "G722/16000/1",
            Codec::Opus => "opus/48000/2",
            _ => self.name(),
        }
    }

    /// Whether the codec carries more than 4 kHz of audio.
    pub fn is_wideband(self) -> bool {
        matches!(self, Codec::G722 | Codec::Opus)
    }

    /// baresip's module for the codec.
    fn module(self) -> &'static str {
        match self {
            Codec::Pcmu | Codec::Pcma => "g711.so",
            Codec::G722 => "g722.so",
            Codec::Opus => "opus.so",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PhoneConfig {
    /// SIP user name (`sip:<name>@127.0.0.1:<port>`), also used in messages.
    pub name: String,
    /// The sine the phone sends, in Hz.
    pub tone_hz: f64,
    /// The only audio codec the phone offers/accepts.
    pub codec: Codec,
    /// Answer incoming calls automatically (`answermode=auto`).
    pub auto_answer: bool,
    /// Length of the tone file; the phone hangs up by itself when it ends.
    pub tone_seconds: f64,
    /// 8 kHz samples sent before the tone (e.g. silence and in-band DTMF keys); empty: none.
    pub lead_in: Vec<i16>,
    /// Register `sip:<name>@127.0.0.1:<port>` at a registrar with this digest password;
    /// `None` (the default): no registration.
    pub register: Option<(u16, String)>,
    /// SIP over TLS: the CA file the phone trusts (`sip_cafile`); registration then goes
    /// over TLS (the registrar port is the server's TLS port).
    pub tls_ca: Option<PathBuf>,
    /// baresip's `mediaenc` (`srtp` = RTP/AVP with keys, `srtp-mand` = RTP/SAVP).
    pub mediaenc: Option<String>,
    /// A second sine sent with the first (an HD phone's high tone, above 4 kHz); the
    /// tone file is then written at the codec's rate (16 kHz, Opus 48 kHz).
    pub high_tone_hz: Option<f64>,
}

impl PhoneConfig {
    pub fn new(name: &str, tone_hz: f64) -> PhoneConfig {
        PhoneConfig {
            name: name.into(),
            tone_hz,
            codec: Codec::Pcmu,
            auto_answer: false,
            tone_seconds: 120.0,
            lead_in: Vec::new(),
            register: None,
            tls_ca: None,
            mediaenc: None,
            high_tone_hz: None,
        }
    }
    /// Speaks SIP over TLS, trusting the certificate in `ca`.
    pub fn tls(mut self, ca: &Path) -> PhoneConfig {
        self.tls_ca = Some(ca.to_owned());
        self
    }
    /// Encrypts media: `srtp` (best effort) or `srtp-mand`.
    pub fn mediaenc(mut self, mediaenc: &str) -> PhoneConfig {
        self.mediaenc = Some(mediaenc.into());
        self
    }
    /// Sends `hz` (above 4 kHz, for wideband phones) together with the main tone.
    pub fn high_tone(mut self, hz: f64) -> PhoneConfig {
        self.high_tone_hz = Some(hz);
        self
    }

    pub fn codec(mut self, codec: Codec) -> PhoneConfig {
        self.codec = codec;
        self
    }
    pub fn auto_answer(mut self) -> PhoneConfig {
        self.auto_answer = true;
        self
    }
    /// Sends `samples` (8 kHz) before the tone, e.g. silence and in-band DTMF keys.
    pub fn lead_in(mut self, samples: Vec<i16>) -> PhoneConfig {
        self.lead_in = samples;
        self
    }
    /// Registers at the registrar on `127.0.0.1:port` (user = `name`, digest `password`).
    pub fn register_at(mut self, port: u16, password: &str) -> PhoneConfig {
        self.register = Some((port, password.into()));
        self
    }
}

/// The `accounts` line: no registration (or registration at a registrar, see
/// [`PhoneConfig::register_at`]), auto or manual answer, exactly one codec.
pub fn account_line(cfg: &PhoneConfig, sip_port: u16) -> String {
    let answermode = if cfg.auto_answer { "auto" } else { "manual" };
    let (aor_port, registration) = match &cfg.register {
        // The AOR's host is the registrar; baresip authenticates as the AOR's user.
        Some((port, password)) => (*port, format!("auth_pass={password};regint=600")),
        None => (sip_port, "regint=0".to_owned()),
    };
    let transport = if cfg.tls_ca.is_some() && cfg.register.is_some() {
        ";transport=tls"
    } else {
        ""
    };
    let mediaenc = cfg
        .mediaenc
        .as_ref()
        .map(|m| format!(";mediaenc={m}"))
        .unwrap_or_default();
    format!(
        "<sip:{}@127.0.0.1:{aor_port}{transport}>;{registration};answermode={answermode};audio_codecs={}{mediaenc}\n",
        cfg.name,
        cfg.codec.account_name()
    )
}

pub fn config_text(
    cfg: &PhoneConfig,
    dir: &Path,
    wav: &Path,
    sip_port: u16,
    ctrl_port: u16,
    rtp_lo: u16,
) -> String {
    // srtp.so before account.so too (`mediaenc=`); the CA for SIP over TLS.
    let secure = match &cfg.tls_ca {
        Some(ca) => format!("module srtp.so\nsip_cafile {}\n", ca.display()),
        None if cfg.mediaenc.is_some() => "module srtp.so\n".to_owned(),
        None => String::new(),
    };
    // Codecs must be loaded before account.so, or `audio_codecs=` in accounts is rejected.
    format!(
        "poll_method epoll\n\
         net_interface 127.0.0.1\n\
         dns_server 127.0.0.1:53\n\
         sip_listen 127.0.0.1:{sip_port}\n\
         audio_source aufile,{wav}\n\
         audio_player alsa,null\n\
         audio_alert alsa,null\n\
         rtp_ports {rtp_lo}-{rtp_hi}\n\
         module_path /usr/lib/baresip/modules\n\
         module {codec}\n\
         module aufile.so\n\
         module alsa.so\n\
         module sndfile.so\n\
         snd_path {dir}\n\
         {secure}\
         module account.so\n\
         module_app menu.so\n\
         module_app ctrl_tcp.so\n\
         ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n",
        wav = wav.display(),
        dir = dir.display(),
        rtp_hi = rtp_lo + 19,
        codec = cfg.codec.module(),
    )
}
