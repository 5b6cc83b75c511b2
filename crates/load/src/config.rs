//! The command line (`konferenz-load call …` / `answer …` / `janus …` / `events …`) and the
//! run configuration the call loads produce; tests build a [`Config`] directly.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::audio::Law;

/// Whether the tool places calls or answers them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Call `sip:<room>@<server>` for rooms `room_base..room_base+rooms`.
    Call { server: SocketAddr },
    /// Answer every INVITE arriving on the SIP port.
    Answer,
    /// Join Janus AudioBridge rooms `room_base..room_base+rooms` as plain-RTP PCMU
    /// participants through the Janus HTTP API at `url`.
    Janus { url: String, sampling_rate: u32 },
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    /// Our address for SIP and RTP (what the SDP and Contact advertise).
    pub local_ip: IpAddr,
    /// SIP port to bind (0: any; answer mode needs a fixed one).
    pub sip_port: u16,
    /// Calls to place, or (answer mode) to wait for before measuring.
    pub calls: usize,
    pub rooms: usize,
    pub room_base: u64,
    /// New calls per second.
    pub rate: f64,
    /// PIN to enter as RFC 4733 events (then `#`) after the answer.
    pub pin: Option<String>,
    /// Wait after the answer before the first digit.
    pub pin_delay: Duration,
    /// Codec offered first (the other is offered too).
    pub codec: Law,
    /// How long to measure: counted from when every room has fallen quiet after the joins
    /// and its first burst went out (calls stay up that much longer).
    pub duration: Duration,
    /// No bursts for this long after set-up (join tones, announcements).
    pub warmup: Duration,
    /// A burst per room this often (one talker at a time, rotating).
    pub burst_interval: Duration,
    /// Peak of the background noise talkers send; 0 sends silence.
    pub noise: i16,
    /// Shared RTP sockets the streams are spread over.
    pub rtp_sockets: usize,
    /// A frame more than this behind its 20 ms slot is late.
    pub late_after: Duration,
    /// Give up waiting for calls to be set up after this.
    pub setup_timeout: Duration,
    /// Start measuring anyway if a room has not fallen quiet this long after the warm-up.
    pub quiet_timeout: Duration,
    /// Answer mode: calls whose dialled user shares this many leading characters are taken
    /// to be in the same room (0: all in one room).
    pub answer_room_prefix: usize,
    /// Exit non-zero when more calls than this fail.
    pub max_failures: usize,
    /// Drop this share (percent) of the packets we send, uniformly at random.
    pub loss_pct: f64,
    /// Seed of the loss pattern.
    pub loss_seed: u64,
    /// The server's process: CPU time and RSS sampled at the start and end of the window.
    pub watch_pid: Option<u32>,
    /// The server's Prometheus endpoint, scraped at the start and end of the window.
    pub metrics_url: Option<String>,
    /// Slots the 20 ms frame is divided into; stream `i` sends in slot `i mod send_slots`.
    pub send_slots: usize,
}

impl Config {
    /// Defaults for calling `server` with `calls` calls into `rooms` rooms from 800.
    pub fn call(server: SocketAddr, calls: usize, rooms: usize) -> Config {
        Config {
            mode: Mode::Call { server },
            local_ip: server.ip(),
            sip_port: 0,
            calls,
            rooms,
            room_base: 800,
            rate: 50.0,
            pin: None,
            pin_delay: Duration::from_millis(500),
            codec: Law::Ulaw,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            burst_interval: Duration::from_millis(500),
            noise: 0,
            rtp_sockets: 4,
            late_after: Duration::from_millis(40),
            setup_timeout: Duration::from_secs(20),
            quiet_timeout: Duration::from_secs(30),
            answer_room_prefix: 0,
            max_failures: 0,
            loss_pct: 0.0,
            loss_seed: 1,
            watch_pid: None,
            metrics_url: None,
            send_slots: 10,
        }
    }
}

/// SIP/RTP load generator for konferenz.
#[derive(Parser, Debug)]
#[command(name = "konferenz-load", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print the report as JSON instead of the human summary.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Place calls into rooms and measure.
    Call {
        /// The server's SIP address (UDP).
        #[arg(long, default_value = "127.0.0.1:5060")]
        server: SocketAddr,
        /// Rooms to spread the calls over (round robin): numbers room-base … +rooms−1.
        #[arg(long, default_value_t = 1)]
        rooms: usize,
        /// The first room number.
        #[arg(long, default_value_t = 800)]
        room_base: u64,
        /// New calls per second.
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// PIN to enter (RFC 4733, then `#`) after the answer.
        #[arg(long)]
        pin: Option<String>,
        /// Wait after the answer before entering the PIN.
        #[arg(long, default_value = "500ms", value_parser = parse_duration)]
        pin_delay: Duration,
        #[command(flatten)]
        common: Common,
    },
    /// Answer every INVITE (for `konferenz invite` with trunk.uri pointing here) and measure.
    Answer {
        /// Calls whose dialled number shares this many leading characters are in one room
        /// (0: all calls in one room).
        #[arg(long, default_value_t = 0)]
        room_prefix: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Join Janus AudioBridge rooms as plain-RTP PCMU participants (HTTP API) and measure
    /// exactly as `call` does.
    Janus {
        /// The Janus HTTP API base.
        #[arg(long, default_value = "http://127.0.0.1:8088/janus")]
        url: String,
        /// Rooms to create and spread the participants over (round robin).
        #[arg(long, default_value_t = 1)]
        rooms: usize,
        /// The first room number.
        #[arg(long, default_value_t = 800)]
        room_base: u64,
        /// New participants per second.
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        /// The rooms' mixing rate (8000: no resampling for PCMU).
        #[arg(long, default_value_t = 8000)]
        sampling_rate: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Open event streams on the HTTP API and measure how fast mute changes reach them,
    /// and the API's latency meanwhile (the calls are placed by another run of the tool).
    Events(crate::events::EventsArgs),
}

#[derive(Args, Debug)]
pub struct Common {
    /// Calls to place (answer mode: to wait for before measuring).
    #[arg(long, short = 'n', default_value_t = 10)]
    pub calls: usize,
    /// How long to measure once every room is quiet after the joins (join tones and
    /// announcements over), e.g. `5s`, `500ms`, `20`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Our IP for SIP and RTP (default: the server's IP in call mode, 127.0.0.1 answering).
    #[arg(long)]
    pub local_ip: Option<IpAddr>,
    /// SIP port to bind (call mode default: any; answer mode default 5070).
    #[arg(long)]
    pub sip_port: Option<u16>,
    /// Codec offered first: pcmu or pcma.
    #[arg(long, default_value = "pcmu", value_parser = parse_codec)]
    pub codec: Law,
    /// No delay bursts for this long after all calls are set up (then a room's first burst
    /// also waits until every member has heard 500 ms of quiet).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// One delay burst per room this often.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub burst_interval: Duration,
    /// Peak amplitude of background noise talkers send (0: silence).
    #[arg(long, default_value_t = 0)]
    pub noise: i16,
    /// Shared RTP sockets to spread the streams over.
    #[arg(long, default_value_t = 4)]
    pub rtp_sockets: usize,
    /// A server frame more than this behind its 20 ms slot counts as late.
    #[arg(long, default_value = "40ms", value_parser = parse_duration)]
    pub late_after: Duration,
    /// Stop waiting for calls to be set up after this.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub setup_timeout: Duration,
    /// Measure anyway if a room is not quiet this long after the warm-up.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub quiet_timeout: Duration,
    /// Exit with status 1 if more calls than this fail.
    #[arg(long, default_value_t = 0)]
    pub max_failures: usize,
    /// Drop this percentage of the RTP packets we send, uniformly at random (seeded), to
    /// test concealment; the report counts the drops.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Seed of the random loss.
    #[arg(long, default_value_t = 1)]
    pub loss_seed: u64,
    /// Sample this process's CPU time (utime+stime) and RSS at the start and end of the
    /// measured window and report CPU per participant-second.
    #[arg(long)]
    pub watch_pid: Option<u32>,
    /// Scrape this Prometheus URL (e.g. http://127.0.0.1:9464/metrics) at the start and end
    /// of the measured window and report what changed.
    #[arg(long)]
    pub metrics_url: Option<String>,
    /// Spread the streams over this many equal send slots of the 20 ms frame (stream i in
    /// slot i mod N, one sendmmsg per socket and slot); 1 sends every stream at once.
    #[arg(long, default_value_t = 10)]
    pub send_slots: usize,
}

impl Cli {
    /// The configuration of a call load (`call`, `answer`, `janus`).
    ///
    /// # Panics
    ///
    /// For `events`, which places no calls: take its arguments from `command` instead.
    pub fn into_config(self) -> Config {
        let (mode, common, answer_room_prefix) = match self.command {
            Command::Call {
                server,
                rooms,
                room_base,
                rate,
                pin,
                pin_delay,
                common,
            } => {
                let mut c = Config::call(server, common.calls, rooms);
                c.room_base = room_base;
                c.rate = rate;
                c.pin = pin;
                c.pin_delay = pin_delay;
                return apply(c, common);
            }
            Command::Answer {
                room_prefix,
                common,
            } => (Mode::Answer, common, room_prefix),
            Command::Janus {
                url,
                rooms,
                room_base,
                rate,
                sampling_rate,
                common,
            } => {
                let host = url
                    .split("://")
                    .nth(1)
                    .and_then(|rest| rest.split(['/', ':']).next())
                    .and_then(|h| h.parse::<IpAddr>().ok())
                    .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
                let mut c = Config::call(SocketAddr::new(host, 0), common.calls, rooms);
                c.mode = Mode::Janus { url, sampling_rate };
                c.room_base = room_base;
                c.rate = rate;
                return apply(c, common);
            }
            Command::Events(_) => panic!("`events` is not a call load"),
        };
        let mut c = Config::call(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), common.calls, 1);
        c.mode = mode;
        c.local_ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        c.sip_port = 5070;
        c.answer_room_prefix = answer_room_prefix;
        apply(c, common)
    }
}

fn apply(mut c: Config, common: Common) -> Config {
    c.calls = common.calls;
    c.duration = common.duration;
    if let Some(ip) = common.local_ip {
        c.local_ip = ip;
    }
    if let Some(port) = common.sip_port {
        c.sip_port = port;
    }
    c.codec = common.codec;
    c.warmup = common.warmup;
    c.burst_interval = common.burst_interval;
    c.noise = common.noise;
    c.rtp_sockets = common.rtp_sockets.max(1);
    c.late_after = common.late_after;
    c.setup_timeout = common.setup_timeout;
    c.quiet_timeout = common.quiet_timeout;
    c.max_failures = common.max_failures;
    c.loss_pct = common.loss.clamp(0.0, 100.0);
    c.loss_seed = common.loss_seed;
    c.watch_pid = common.watch_pid;
    c.metrics_url = common.metrics_url;
    c.send_slots = common.send_slots.clamp(1, 20);
    c
}

/// `5s`, `500ms`, `2m` or plain seconds (`5`, `0.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {text:?} (e.g. 5s, 500ms)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("not a duration: {text:?}"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

fn parse_codec(text: &str) -> Result<Law, String> {
    Law::from_name(text).ok_or_else(|| format!("unknown codec {text:?} (pcmu or pcma)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn command_line_becomes_config() {
        let cli = Cli::parse_from([
            "konferenz-load",
            "--json",
            "call",
            "--server",
            "127.0.0.1:5080",
            "-n",
            "20",
            "--rooms",
            "2",
            "--duration",
            "5s",
            "--pin",
            "4711",
            "--codec",
            "pcma",
        ]);
        assert!(cli.json);
        let c = cli.into_config();
        assert_eq!(
            c.mode,
            Mode::Call {
                server: "127.0.0.1:5080".parse().unwrap()
            }
        );
        assert_eq!((c.calls, c.rooms, c.room_base), (20, 2, 800));
        assert_eq!((c.pin.as_deref(), c.codec), (Some("4711"), Law::Alaw));
        let c = Cli::parse_from(["konferenz-load", "answer", "-n", "4"]).into_config();
        assert_eq!((c.mode, c.sip_port, c.calls), (Mode::Answer, 5070, 4));
        let c = Cli::parse_from([
            "konferenz-load",
            "janus",
            "--url",
            "http://127.0.0.1:18088/janus",
            "--rooms",
            "10",
            "-n",
            "100",
            "--loss",
            "5",
        ])
        .into_config();
        assert_eq!(
            c.mode,
            Mode::Janus {
                url: "http://127.0.0.1:18088/janus".into(),
                sampling_rate: 8000
            }
        );
        assert_eq!((c.calls, c.rooms, c.loss_pct), (100, 10, 5.0));
        assert_eq!(c.local_ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        let cli = Cli::parse_from([
            "konferenz-load",
            "events",
            "--http",
            "127.0.0.1:47080",
            "--token",
            "t",
            "--streams",
            "3",
            "--event-timeout",
            "2s",
        ]);
        let Command::Events(events) = cli.command else {
            panic!("not events");
        };
        assert_eq!(
            (events.http.as_str(), events.streams),
            ("127.0.0.1:47080", 3)
        );
        assert_eq!((events.changes, events.room.as_str()), (200, "800"));
        assert_eq!(events.event_timeout, Duration::from_secs(2));
    }
}
