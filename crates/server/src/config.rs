//! The server's configuration: defaults, then a TOML file, then `KONFERENZ_*` variables.
//!
//! Every key has a default, so an empty file (or none) is a working configuration.
//! Environment variables name a key as `KONFERENZ_<SECTION>__<KEY>`, e.g.
//! `KONFERENZ_SIP__LISTEN=127.0.0.1:5070`. Errors name the key they are about, on one
//! line, so a typo is found without reading a stack of messages.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

mod dialin;
mod limits;
mod mail;
mod registrar;
mod secrets;
mod trunk;

pub use dialin::{DialinConfig, PhonebookConfig, PromptsConfig, ThrottleSettings};
pub use limits::LimitsConfig;
pub use mail::{MailConfig, ScheduleConfig};
pub use registrar::RegistrarConfig;
pub use secrets::hide_url_password;
pub use trunk::TrunkConfig;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override config keys.
const ENV_PREFIX: &str = "KONFERENZ_";
/// Separates section and key in an environment variable name.
const ENV_SPLIT: &str = "__";

/// `--help` text listing every key with its default and environment variable.
pub const KEYS_HELP: &str = "\
Configuration (TOML file from --config or KONFERENZ_CONFIG; each key can be
overridden by the environment variable shown; defaults in brackets):

  [sip]
  listen            KONFERENZ_SIP__LISTEN             [127.0.0.1:5060]
      UDP and TCP address for SIP.
  public_address    KONFERENZ_SIP__PUBLIC_ADDRESS     [the listen IP]
      IP put in Contact and SDP; required when listen is 0.0.0.0 or [::].
  user_agent        KONFERENZ_SIP__USER_AGENT         [konferenz/<version>]
  rtp_timeout_secs  KONFERENZ_SIP__RTP_TIMEOUT_SECS   [30]
      Hang up a call whose media (RTP/RTCP) is silent this long; 0 disables.
  overload_queue_kib KONFERENZ_SIP__OVERLOAD_QUEUE_KIB [0]
      SIP datagrams waiting this long (KiB) mean the server is behind: new INVITEs
      get 503 with Retry-After until the queue is short again; 0: a quarter of
      the socket's receive buffer.
  tls_listen        KONFERENZ_SIP__TLS_LISTEN         [none: no SIP over TLS]
      Address for SIP over TLS (sips port 5061), e.g. 0.0.0.0:5061.
  tls_certificate   KONFERENZ_SIP__TLS_CERTIFICATE    [http.tls_certificate]
  tls_private_key   KONFERENZ_SIP__TLS_PRIVATE_KEY    [http.tls_private_key]
      PEM files for SIP over TLS.
  srtp              KONFERENZ_SIP__SRTP               [optional]
      Encrypted media (SRTP, keys by SDES) - keys only ever travel over TLS:
      off: never; optional: whenever a phone over TLS offers it, and our calls
      over TLS offer it; required: only SRTP calls over TLS are taken.
  codecs            KONFERENZ_SIP__CODECS             [opus, G722, PCMU, PCMA]
      Audio codecs offered and accepted, most wanted first. opus and G722 carry
      HD (wideband) audio; the mixer runs at 16 kHz either way.

  [rtp]
  ports             KONFERENZ_RTP__PORTS              [20000-20999]
      UDP port range LOW-HIGH for media; LOW even, both >= 1024.
  jitter_min_ms     KONFERENZ_RTP__JITTER_MIN_MS      [20]
      Smallest delay of the adaptive jitter buffer (20-320, whole 20 ms frames).
  jitter_max_ms     KONFERENZ_RTP__JITTER_MAX_MS      [200]
      Largest delay it may grow to under jitter (20-320).
  mixer_threads     KONFERENZ_RTP__MIXER_THREADS      [0]
      Threads running the rooms' 20 ms mixers; 0 = one per usable CPU core.
  realtime          KONFERENZ_RTP__REALTIME           [true]
      Mixer threads ask for SCHED_FIFO priority (granted to root/CAP_SYS_NICE).

  [http]
  listen            KONFERENZ_HTTP__LISTEN            [127.0.0.1:8080]
      Web interface and REST API (/api/v1).
  public_url        KONFERENZ_HTTP__PUBLIC_URL        [http://<Host of the request>]
      Base of the personal links mailed and copied (/j/TOKEN), e.g.
      https://konferenz.example.org.
  admin_token_file  KONFERENZ_HTTP__ADMIN_TOKEN_FILE  [<database folder>/admin-token]
      Written at start (mode 0600): the local administrator's API token, read by
      the CLI commands that talk to the running server.
  session_hours     KONFERENZ_HTTP__SESSION_HOURS     [12]
      A browser session ends after this long without a request.
  tls_certificate   KONFERENZ_HTTP__TLS_CERTIFICATE   [none: plain HTTP]
  tls_private_key   KONFERENZ_HTTP__TLS_PRIVATE_KEY   [none]
      PEM files; with both, listen serves HTTPS (answers carry HSTS).
  redirect_listen   KONFERENZ_HTTP__REDIRECT_LISTEN   [none]
      A plain-HTTP address (e.g. 0.0.0.0:80) that redirects every request to HTTPS.
  allowed_hosts     KONFERENZ_HTTP__ALLOWED_HOSTS     [[]]
      Host names served besides public_url's, localhost and the listen address
      ([\"*\"]: any); other Host headers get 421 (DNS rebinding).

  [webrtc]
  enabled           KONFERENZ_WEBRTC__ENABLED         [true]
      Browsers may join a conference as participants (WebRTC, Opus).
  listen            KONFERENZ_WEBRTC__LISTEN          [127.0.0.1:5064]
      The one UDP port every browser's media uses (ICE-lite, DTLS-SRTP).
  public_address    KONFERENZ_WEBRTC__PUBLIC_ADDRESS  [sip.public_address]
      The address browsers are told to reach (needed when listen is 0.0.0.0).

  [metrics]
  listen            KONFERENZ_METRICS__LISTEN         [127.0.0.1:9464]
      GET /metrics for Prometheus, without credentials: keep it on loopback or a
      management network.

  [database]
  url               KONFERENZ_DATABASE__URL           [sqlite://konferenz-data/konferenz.db]
      sqlite://PATH (file and directories are created) or sqlite::memory:.

  [log]
  level             KONFERENZ_LOG__LEVEL              [info]
      A tracing EnvFilter directive, e.g. \"debug\" or \"info,konferenz_sip=trace\";
      RUST_LOG overrides it. Logs go to stderr.
  audit_days        KONFERENZ_LOG__AUDIT_DAYS         [365]
      Days the audit log (logins, changes, lockouts; in the database) keeps entries.

  [dialin]
  shared_numbers      KONFERENZ_DIALIN__SHARED_NUMBERS      [[]]
      Entry numbers with no room of their own: the PIN entered selects the room.
  external_number     KONFERENZ_DIALIN__EXTERNAL_NUMBER     [none]
      The number people dial from outside (e.g. \"+41 44 123 45 67\"), reaching one
      of shared_numbers through the PBX; shown on personal links.
  digit_timeout_secs  KONFERENZ_DIALIN__DIGIT_TIMEOUT_SECS  [10]
  prompt_repeats      KONFERENZ_DIALIN__PROMPT_REPEATS      [2]
  attempts            KONFERENZ_DIALIN__ATTEMPTS            [3]
      Wrong PINs per call before goodbye.
  time_limit_secs     KONFERENZ_DIALIN__TIME_LIMIT_SECS     [180]

  [prompts]
  language            KONFERENZ_PROMPTS__LANGUAGE           [en]
      Default prompt language (en, de); a room may set its own.
  language_switch     KONFERENZ_PROMPTS__LANGUAGE_SWITCH    [true]
      Callers may press * 1 (English) or * 2 (German) before the PIN.
  directory           KONFERENZ_PROMPTS__DIRECTORY          [built-in set]
      Replacement recordings as <dir>/<lang>/<name>.wav (any rate, mono/stereo).
  music               KONFERENZ_PROMPTS__MUSIC              [built-in tune]
      On-hold music WAV played while someone is alone in a room.

  [throttle]
  caller_failures     KONFERENZ_THROTTLE__CALLER_FAILURES   [6]
  caller_window_secs  KONFERENZ_THROTTLE__CALLER_WINDOW_SECS [600]
  caller_lockout_secs KONFERENZ_THROTTLE__CALLER_LOCKOUT_SECS [900]
      A caller (address + caller ID) with that many wrong PINs in the window is
      refused for the lockout time.
  room_failures       KONFERENZ_THROTTLE__ROOM_FAILURES     [20]
  room_window_secs    KONFERENZ_THROTTLE__ROOM_WINDOW_SECS  [600]
  room_lockout_secs   KONFERENZ_THROTTLE__ROOM_LOCKOUT_SECS [600]
      A room with that many wrong PINs in the window refuses PIN entry for a while.
      The registrar uses the same limits for passwords guessed by REGISTER
      (per address and account, and per account).

  [phonebook]
  default_region      KONFERENZ_PHONEBOOK__DEFAULT_REGION   [DE]
      Country (ISO code) of phone book numbers written without a country code.

  [trunk]
  uri                 KONFERENZ_TRUNK__URI                  [none]
      Request-URI template of calls to invited participants, e.g.
      sip:{number}@pbx.example:5060.
  outbound_proxy      KONFERENZ_TRUNK__OUTBOUND_PROXY       [none]
      ADDRESS:PORT to send every call through instead of the URI's host.
  dns_server          KONFERENZ_TRUNK__DNS_SERVER           [resolv.conf]
      IP:PORT of the DNS server that finds the URI's host (NAPTR, SRV, A/AAAA).
  transport           KONFERENZ_TRUNK__TRANSPORT            [udp]
  username, password  KONFERENZ_TRUNK__USERNAME / __PASSWORD [none]
      Digest credentials for 401/407 challenges (MD5, SHA-256, SHA-512/256).
  caller_id           KONFERENZ_TRUNK__CALLER_ID            [konferenz]
  asserted_identity   KONFERENZ_TRUNK__ASSERTED_IDENTITY    [none]
  ring_timeout_secs   KONFERENZ_TRUNK__RING_TIMEOUT_SECS    [45]
      An unanswered invitation is cancelled after this long (state no-answer).
  internal_numbers    KONFERENZ_TRUNK__INTERNAL_NUMBERS     [none]
      Regular expression of internal numbers, e.g. ^[0-9]{2,4}$.
  internal_uri        KONFERENZ_TRUNK__INTERNAL_URI         [uri]
      Request-URI template for internal numbers (e.g. straight to the PBX).
  external_prefix     KONFERENZ_TRUNK__EXTERNAL_PREFIX      [none]
      Dialled before every external number, e.g. 0 for an outside line.
  register            KONFERENZ_TRUNK__REGISTER             [false]
      Register at the PBX/provider with username/password; refreshed and retried.
  registrar           KONFERENZ_TRUNK__REGISTRAR            [sip:<host of uri>]
  register_expires_secs KONFERENZ_TRUNK__REGISTER_EXPIRES_SECS [600]
  A registered user's phone (konferenz user add) is called at its binding first.

  [registrar]
  enabled             KONFERENZ_REGISTRAR__ENABLED          [true]
      Phones of users created with `konferenz user add` may REGISTER here.
  realm               KONFERENZ_REGISTRAR__REALM            [konferenz]
      Digest realm; passwords are stored hashed for it (change = set them again).
  min_expires_secs    KONFERENZ_REGISTRAR__MIN_EXPIRES_SECS [60]
  max_expires_secs    KONFERENZ_REGISTRAR__MAX_EXPIRES_SECS [3600]
  algorithms          KONFERENZ_REGISTRAR__ALGORITHMS       [[\"MD5\"]]
      Digest algorithms offered, preferred first: MD5, SHA-256 (some phones fail
      on a challenge they cannot answer rather than skipping it).

  [mail]
  smtp_url            KONFERENZ_MAIL__SMTP_URL              [none: mails stay queued]
      smtp://HOST:PORT (plain), smtp://HOST:PORT?tls=required (STARTTLS),
      smtps://HOST:PORT (TLS from the start).
  username, password  KONFERENZ_MAIL__USERNAME / __PASSWORD [none]
  from                KONFERENZ_MAIL__FROM                  [konferenz <konferenz@localhost>]
  retry_secs          KONFERENZ_MAIL__RETRY_SECS            [30]
      First wait after a temporary failure (doubling, at most an hour).

  [schedule]
  pin_length          KONFERENZ_SCHEDULE__PIN_LENGTH        [6]
  grace_minutes       KONFERENZ_SCHEDULE__GRACE_MINUTES     [10]
      The PIN of a scheduled conference works until this long after its end.
  time_zone           KONFERENZ_SCHEDULE__TIME_ZONE         [Europe/Zurich]
      Default time zone of users who have not chosen one.
  default_title_en/_de, default_location_en/_de, default_description_en/_de
      The form's defaults; <number> and <pin> in the description are replaced.

  [limits]
  calls               KONFERENZ_LIMITS__CALLS               [0: one per RTP port pair]
  calls_per_room      KONFERENZ_LIMITS__CALLS_PER_ROOM      [1000]
  calls_per_source    KONFERENZ_LIMITS__CALLS_PER_SOURCE    [200]
      Calls at once in all, in one room (callers then hear 'this conference is
      full') and from one IP address (raise it for a PBX trunk); 0: no limit.
  tcp_connections     KONFERENZ_LIMITS__TCP_CONNECTIONS     [2048]
  tcp_connections_per_source KONFERENZ_LIMITS__TCP_CONNECTIONS_PER_SOURCE [32]
      SIP TCP connections open at once, in all and from one IP address; more are
      closed as they are accepted.
  tcp_idle_secs       KONFERENZ_LIMITS__TCP_IDLE_SECS       [600]
      A SIP TCP connection without traffic this long is closed.
  tcp_message_secs    KONFERENZ_LIMITS__TCP_MESSAGE_SECS    [10]
      A message begun on a SIP TCP connection must be complete within this time.
  invites_per_source_per_sec KONFERENZ_LIMITS__INVITES_PER_SOURCE_PER_SEC [100]
  invites_burst       KONFERENZ_LIMITS__INVITES_BURST       [200]
      New calls one IP address may start per second (0: no limit) and at once;
      beyond: 503 with Retry-After.
  invites_refusals_before_ignore KONFERENZ_LIMITS__INVITES_REFUSALS_BEFORE_IGNORE [100]
  invites_ignore_secs KONFERENZ_LIMITS__INVITES_IGNORE_SECS [60]
      An address refused this often (refusals wear off at the allowed rate) gets no
      answer at all for this long.
  invitations_per_user_per_hour KONFERENZ_LIMITS__INVITATIONS_PER_USER_PER_HOUR [300]
      Calls one user may place (invite, dial in, re-dial) per hour; beyond: 429.
  mails_per_hour      KONFERENZ_LIMITS__MAILS_PER_HOUR      [2000]
      Mails sent per hour; beyond, they wait in the outbox. 0: no limit.

`konferenz config` prints the effective configuration.";

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SIP signalling.
    pub sip: SipConfig,
    /// RTP media.
    pub rtp: RtpConfig,
    /// The web interface and API.
    pub http: HttpConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Browsers as participants.
    pub webrtc: WebRtcConfig,
    /// Where rooms, users and schedules are kept.
    pub database: DatabaseConfig,
    /// Logging.
    pub log: LogConfig,
    /// Shared dial-in numbers and the PIN menu.
    pub dialin: DialinConfig,
    /// Prompt language and recordings.
    pub prompts: PromptsConfig,
    /// PIN-guessing limits.
    pub throttle: ThrottleSettings,
    /// Phone book number parsing.
    pub phonebook: PhonebookConfig,
    /// Where calls to invited participants go.
    pub trunk: TrunkConfig,
    /// The built-in registrar for users' phones.
    pub registrar: RegistrarConfig,
    /// The SMTP server invitations are sent through.
    pub mail: MailConfig,
    /// Scheduled conferences: PINs, grace, default texts.
    pub schedule: ScheduleConfig,
    /// What peers may hold of the server.
    pub limits: LimitsConfig,
}

/// `[sip]`: the SIP endpoint.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// Address for SIP over UDP and TCP.
    pub listen: SocketAddr,
    /// The address put in Contact and SDP; the listen IP when unset.
    pub public_address: Option<IpAddr>,
    /// The `User-Agent` / `Server` header value.
    pub user_agent: String,
    /// A call whose media is silent (no RTP/RTCP) this long is hung up; 0 disables.
    pub rtp_timeout_secs: u64,
    /// SIP receive queue (KiB) above which new INVITEs get 503; 0: a quarter of the buffer.
    pub overload_queue_kib: u32,
    /// Address for SIP over TLS; None: no TLS listener.
    pub tls_listen: Option<SocketAddr>,
    /// PEM certificate chain for SIP over TLS; None: `http.tls_certificate`.
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key for SIP over TLS; None: `http.tls_private_key`.
    pub tls_private_key: Option<PathBuf>,
    /// When media is encrypted.
    pub srtp: SrtpMode,
    /// Audio codecs offered and accepted, most wanted first: `opus`, `G722` (HD),
    /// `PCMU`, `PCMA` (G.711).
    pub codecs: Vec<AudioCodec>,
}

/// One entry of `sip.codecs`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum AudioCodec {
    #[serde(rename = "opus", alias = "OPUS", alias = "Opus")]
    Opus,
    #[serde(rename = "G722", alias = "g722")]
    G722,
    #[serde(rename = "PCMU", alias = "pcmu")]
    Pcmu,
    #[serde(rename = "PCMA", alias = "pcma")]
    Pcma,
}

impl AudioCodec {
    /// The SDP description of the codec.
    pub fn spec(self) -> konferenz_sip::CodecSpec {
        match self {
            Self::Opus => konferenz_sip::OPUS,
            Self::G722 => konferenz_sip::G722,
            Self::Pcmu => konferenz_sip::PCMU,
            Self::Pcma => konferenz_sip::PCMA,
        }
    }
}

/// `sip.srtp`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SrtpMode {
    Off,
    #[default]
    Optional,
    Required,
}

impl SrtpMode {
    pub fn policy(self) -> konferenz_sip::SrtpPolicy {
        match self {
            Self::Off => konferenz_sip::SrtpPolicy::Off,
            Self::Optional => konferenz_sip::SrtpPolicy::Optional,
            Self::Required => konferenz_sip::SrtpPolicy::Required,
        }
    }
}

/// `[rtp]`: media ports and jitter buffer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RtpConfig {
    /// The UDP ports media sockets are bound from.
    pub ports: PortRange,
    /// The jitter buffer's smallest delay.
    pub jitter_min_ms: u32,
    /// The jitter buffer's largest delay.
    pub jitter_max_ms: u32,
    /// Threads that run the rooms' mixers; 0: one per CPU core the process may use.
    pub mixer_threads: usize,
    /// Ask for real-time scheduling (SCHED_FIFO) for the mixer threads when permitted.
    pub realtime: bool,
}

/// `[http]`: the web interface and REST API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address of the HTTP server.
    pub listen: SocketAddr,
    /// Base URL of personal links; None: `http://` + the request's Host.
    pub public_url: Option<String>,
    /// The local administrator's token file; None: `admin-token` beside the database.
    pub admin_token_file: Option<PathBuf>,
    /// Idle time after which a browser session ends.
    pub session_hours: u32,
    /// PEM certificate chain; with `tls_private_key`, `listen` serves HTTPS.
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key of `tls_certificate`.
    pub tls_private_key: Option<PathBuf>,
    /// A plain-HTTP address whose every request is redirected to HTTPS (e.g. `0.0.0.0:80`).
    pub redirect_listen: Option<SocketAddr>,
    /// Host names the window answers for besides `public_url`'s, loopback and the listen
    /// address (`["*"]`: any, e.g. behind a proxy that checks them).
    pub allowed_hosts: Vec<String>,
}

impl HttpConfig {
    /// The certificate and key, when HTTPS is configured (`validate` checked both or neither).
    pub fn tls(&self) -> Option<(&Path, &Path)> {
        self.tls_certificate
            .as_deref()
            .zip(self.tls_private_key.as_deref())
    }
}

/// `[webrtc]`: browsers joining conferences (the conference window's softphone).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebRtcConfig {
    /// Whether browsers may join.
    pub enabled: bool,
    /// The UDP address all browsers' media uses.
    pub listen: SocketAddr,
    /// The address put in our ICE candidate; `sip.public_address`, else the listen IP.
    pub public_address: Option<IpAddr>,
}

impl Default for WebRtcConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 5064)),
            public_address: None,
        }
    }
}

/// `[metrics]`: where Prometheus scrapes `GET /metrics`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the metrics listener (no credentials: keep it private).
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `sqlite::memory:`.
    pub url: String,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing `EnvFilter` directive such as `info` or `info,konferenz_sip=debug`.
    pub level: String,
    /// Days the audit log (in the database) keeps its entries; 0: for ever.
    pub audit_days: u32,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            public_address: None,
            user_agent: concat!("konferenz/", env!("CARGO_PKG_VERSION")).to_owned(),
            rtp_timeout_secs: 30,
            overload_queue_kib: 0,
            tls_listen: None,
            tls_certificate: None,
            tls_private_key: None,
            srtp: SrtpMode::Optional,
            codecs: vec![
                AudioCodec::Opus,
                AudioCodec::G722,
                AudioCodec::Pcmu,
                AudioCodec::Pcma,
            ],
        }
    }
}

impl Default for RtpConfig {
    fn default() -> Self {
        Self {
            ports: PortRange {
                start: 20000,
                end: 20999,
            },
            jitter_min_ms: 20,
            jitter_max_ms: 200,
            mixer_threads: 0,
            realtime: true,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            admin_token_file: None,
            session_hours: 12,
            tls_certificate: None,
            tls_private_key: None,
            redirect_listen: None,
            allowed_hosts: Vec::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://konferenz-data/konferenz.db".to_owned(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            audit_days: 365,
        }
    }
}

impl Config {
    /// The certificate and key for SIP over TLS: `sip.tls_*`, else `http.tls_*`.
    pub fn sip_tls(&self) -> Option<(&Path, &Path)> {
        self.sip
            .tls_certificate
            .as_deref()
            .zip(self.sip.tls_private_key.as_deref())
            .or_else(|| self.http.tls())
    }

    /// The local administrator's token file: `http.admin_token_file`, else `admin-token`
    /// in the folder of the SQLite database (the current folder for an in-memory one).
    pub fn admin_token_file(&self) -> PathBuf {
        if let Some(path) = &self.http.admin_token_file {
            return path.clone();
        }
        let url = &self.database.url;
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|p| p.split('?').next().unwrap_or(p))
            .filter(|p| !p.is_empty() && !p.starts_with(":memory:"));
        match path.and_then(|p| Path::new(p).parent()) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join("admin-token"),
            _ => PathBuf::from("admin-token"),
        }
    }
}

impl SipConfig {
    /// The address to advertise in Contact and SDP: `public_address`, else the listen IP.
    ///
    /// After [`Config::validate`] this is never unspecified (`0.0.0.0` / `::`).
    pub fn public_ip(&self) -> IpAddr {
        self.public_address.unwrap_or(self.listen.ip())
    }
}

/// An inclusive range of UDP ports, written `LOW-HIGH` (`"20000-20999"`).
///
/// `start` is even and below `end`, both at least 1024: RTP takes the even port and
/// RTCP the odd one above it (RFC 3550 §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct PortRange {
    /// First port, even.
    pub start: u16,
    /// Last port, inclusive.
    pub end: u16,
}

impl PortRange {
    /// RTP/RTCP pairs in the range (even RTP port, RTCP on the next).
    pub fn pairs(&self) -> usize {
        let first = self.start + self.start % 2;
        usize::from(self.end.saturating_sub(first)).div_ceil(2)
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let not_a_range = || format!("{text:?} is not a port range LOW-HIGH");
        let (low, high) = text.split_once('-').ok_or_else(not_a_range)?;
        let start: u16 = low.trim().parse().map_err(|_| not_a_range())?;
        let end: u16 = high.trim().parse().map_err(|_| not_a_range())?;
        if start >= end {
            return Err(not_a_range());
        }
        if start < 1024 {
            return Err(format!("{text:?}: ports must be 1024 or above"));
        }
        if !start.is_multiple_of(2) {
            return Err(format!(
                "{text:?}: the first port must be even (RTP even, RTCP the next odd port)"
            ));
        }
        Ok(PortRange { start, end })
    }
}

impl TryFrom<String> for PortRange {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<PortRange> for String {
    fn from(range: PortRange) -> String {
        range.to_string()
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Why the configuration cannot be used. Displays as one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file given with `--config` cannot be read.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error or TOML syntax error, on one line.
        reason: String,
    },
    /// A key has a bad value, is unknown, or contradicts another key.
    #[error("{key}: {message}{}", source_hint(.env_var))]
    Key {
        /// The dotted key, e.g. `rtp.ports`.
        key: String,
        /// What is wrong with it.
        message: String,
        /// The environment variable the value came from, if it did.
        env_var: Option<String>,
    },
}

fn source_hint(env_var: &Option<String>) -> String {
    match env_var {
        Some(var) => format!(" (from environment variable {var})"),
        None => String::new(),
    }
}

impl ConfigError {
    fn key(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Key {
            key: key.to_owned(),
            message: message.into(),
            env_var: None,
        }
    }

    /// Turns figment's error (which may chain several) into one line about the first.
    fn from_figment(err: figment::Error) -> Self {
        let mut path = err.path.clone();
        let message = match &err.kind {
            figment::error::Kind::UnknownField(field, expected) => {
                // figment usually puts the field in the path already.
                if path.last() != Some(field) {
                    path.push(field.clone());
                }
                format!("unknown key (expected one of: {})", expected.join(", "))
            }
            kind => kind.to_string(),
        };
        let key = if path.is_empty() {
            "(top level)".to_owned()
        } else {
            path.join(".")
        };
        let from_env = err
            .metadata
            .as_ref()
            .is_some_and(|m| m.name.contains("environment"));
        let env_var = from_env.then(|| env_var_name(&path));
        ConfigError::Key {
            key,
            message,
            env_var,
        }
    }
}

/// `["sip", "listen"]` → `KONFERENZ_SIP__LISTEN`.
fn env_var_name(path: &[String]) -> String {
    format!("{ENV_PREFIX}{}", path.join(ENV_SPLIT).to_uppercase())
}

impl Config {
    /// Loads defaults, then `path` (which must exist if given), then the environment.
    ///
    /// Does not check cross-key rules; call [`Config::validate`] for those.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            check_toml_file(path)?;
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(
            Env::prefixed(ENV_PREFIX)
                // KONFERENZ_CONFIG names the file; it is not a key.
                .ignore(&["config"])
                .split(ENV_SPLIT),
        );
        figment.extract().map_err(ConfigError::from_figment)
    }

    /// Checks the rules that involve more than one key or a key's meaning.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.sip.public_ip().is_unspecified() {
            return Err(ConfigError::key(
                "sip.public_address",
                format!(
                    "must be set when sip.listen is the unspecified address {}",
                    self.sip.listen.ip()
                ),
            ));
        }
        for (key, value) in [
            ("rtp.jitter_min_ms", self.rtp.jitter_min_ms),
            ("rtp.jitter_max_ms", self.rtp.jitter_max_ms),
        ] {
            if !(20..=320).contains(&value) {
                return Err(ConfigError::key(
                    key,
                    format!("{value} is outside 20-320 (ms, whole 20 ms frames are used)"),
                ));
            }
        }
        if self.rtp.jitter_min_ms > self.rtp.jitter_max_ms {
            return Err(ConfigError::key(
                "rtp.jitter_min_ms",
                format!(
                    "{} is above rtp.jitter_max_ms {}",
                    self.rtp.jitter_min_ms, self.rtp.jitter_max_ms
                ),
            ));
        }
        if self.http.tls_certificate.is_some() != self.http.tls_private_key.is_some() {
            return Err(ConfigError::key(
                "http.tls_certificate",
                "goes with http.tls_private_key: set both (HTTPS) or neither",
            ));
        }
        if self.sip.tls_certificate.is_some() != self.sip.tls_private_key.is_some() {
            return Err(ConfigError::key(
                "sip.tls_certificate",
                "goes with sip.tls_private_key: set both or neither",
            ));
        }
        if self.sip.tls_listen.is_some() && self.sip_tls().is_none() {
            return Err(ConfigError::key(
                "sip.tls_listen",
                "SIP over TLS needs a certificate: set sip.tls_certificate and sip.tls_private_key (or http.tls_certificate and http.tls_private_key)",
            ));
        }
        if self.sip.tls_listen.is_some_and(|tls| {
            tls.port() == self.sip.listen.port() && tls.ip() == self.sip.listen.ip()
        }) {
            return Err(ConfigError::key(
                "sip.tls_listen",
                "is sip.listen's address: SIP over TLS needs its own port (usually 5061)",
            ));
        }
        if self.webrtc.enabled
            && self.webrtc.listen.ip().is_unspecified()
            && self
                .webrtc
                .public_address
                .or(self.sip.public_address)
                .is_none()
        {
            return Err(ConfigError::key(
                "webrtc.public_address",
                "is needed when webrtc.listen is a wildcard address: browsers must be told one address to reach",
            ));
        }
        if self.sip.codecs.is_empty() {
            return Err(ConfigError::key(
                "sip.codecs",
                "is empty: name at least one of opus, G722, PCMU, PCMA",
            ));
        }
        if self.sip.srtp == SrtpMode::Required && self.sip.tls_listen.is_none() {
            return Err(ConfigError::key(
                "sip.srtp",
                "required needs SIP over TLS (sip.tls_listen): SRTP keys never travel in plain SIP",
            ));
        }
        if self.http.redirect_listen.is_some() && self.http.tls().is_none() {
            return Err(ConfigError::key(
                "http.redirect_listen",
                "redirects to HTTPS, which needs http.tls_certificate and http.tls_private_key",
            ));
        }
        self.dialin.validate()?;
        self.prompts.validate()?;
        self.throttle.validate()?;
        self.phonebook.validate()?;
        self.trunk.validate()?;
        self.registrar.validate()?;
        self.mail.validate()?;
        self.schedule.validate()?;
        if self.database.url.trim().is_empty() {
            return Err(ConfigError::key("database.url", "must not be empty"));
        }
        if let Some(url) = &self.http.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::key(
                "http.public_url",
                "must start with http:// or https://",
            ));
        }
        if !(1..=24 * 90).contains(&self.http.session_hours) {
            return Err(ConfigError::key(
                "http.session_hours",
                "must be between 1 and 2160",
            ));
        }
        if self.metrics.listen == self.http.listen {
            return Err(ConfigError::key(
                "metrics.listen",
                "must differ from http.listen",
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::key(
                "log.level",
                format!("{:?} is not a log filter: {e}", self.log.level),
            ));
        }
        Ok(())
    }

    /// [`Config::load`] followed by [`Config::validate`].
    pub fn load_valid(path: Option<&Path>) -> Result<Config, ConfigError> {
        let config = Config::load(path)?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration as TOML, as `konferenz config` prints it.
    pub fn to_toml(&self) -> String {
        // Secrets stay off screens: passwords are shown as set, not their values.
        let mut shown = self.clone();
        for password in [&mut shown.trunk.password, &mut shown.mail.password] {
            if password.is_some() {
                *password = Some(secrets::SET.to_owned());
            }
        }
        shown.trunk.uri = hide_url_password(&shown.trunk.uri);
        shown.trunk.internal_uri = shown.trunk.internal_uri.as_deref().map(hide_url_password);
        shown.mail.smtp_url = hide_url_password(&shown.mail.smtp_url);
        // Serializing plain structs of strings and numbers cannot fail.
        toml::to_string(&shown).expect("config serializes to TOML")
    }
}

/// Reads `path` and checks its TOML syntax, so a missing file or a typo'd bracket is
/// reported as one line naming the file (figment would print a multi-line snippet).
fn check_toml_file(path: &Path) -> Result<(), ConfigError> {
    let file_error = |reason: String| ConfigError::File {
        path: path.to_owned(),
        reason,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| file_error(format!("cannot read: {e}")))?;
    if let Err(e) = toml::from_str::<toml::Table>(&text) {
        let line = e
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', "; ");
        return Err(file_error(match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
