//! The report: what a run measured, as a human summary or JSON, and whether it passed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::Mode;
use crate::run::Runner;
use crate::rx::RxReport;
use crate::sip::CallState;
use crate::stats::{LatenessReport, Summary};

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub mode: &'static str,
    pub calls: CallsReport,
    pub hangup: HangupReport,
    pub streams: StreamsReport,
    /// What we sent, and how much of it `--loss` dropped on purpose.
    pub sent: SentReport,
    /// Bridge delay over all rooms (ms): burst sent by a talker → onset heard by a listener.
    pub bridge_delay_ms: Summary,
    pub rooms: Vec<RoomReport>,
    /// The tool's own send-loop lateness against its 20 ms deadlines.
    pub lateness: LatenessReport,
    /// The same for the ticks inside the measured window only.
    pub lateness_window: LatenessReport,
    /// How long building and sending one slot took (its packets' spread), whole run and
    /// window.
    pub send_time: LatenessReport,
    pub send_time_window: LatenessReport,
    /// The tool's own CPU over the measured window: user and system seconds, window length.
    pub tool_cpu: Option<ToolCpu>,
    /// Seconds from set-up done to every room being quiet (measuring started).
    pub quiet_wait_s: Option<f64>,
    /// Failed or dropped calls plus BYEs not answered 2xx.
    pub failures: usize,
    /// The watched server's cost over the window (`--watch-pid`, `--metrics-url`).
    pub server: Option<crate::watch::ServerReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallsReport {
    pub attempted: usize,
    pub answered: usize,
    /// Answered calls per second, first INVITE to last answer.
    pub setup_rate_cps: f64,
    /// INVITE sent → 200 received (answer mode: INVITE received → ACK), ms.
    pub setup_ms: Summary,
    /// Failed calls by status (or reason); `dropped: …` for calls that ended early.
    pub failed: BTreeMap<String, usize>,
    pub dropped: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct HangupReport {
    pub byes_sent: usize,
    /// Final answers to our BYEs by status.
    pub answers: BTreeMap<u16, usize>,
    /// BYEs answered 2xx.
    pub ok: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamsReport {
    pub count: usize,
    /// Streams that never received a packet.
    pub silent: usize,
    pub totals: RxReport,
    pub loss_pct: f64,
    /// (late + missing) / expected slots, in %.
    pub late_or_missing_pct: f64,
    /// Largest gap between two arrivals on one stream.
    pub max_gap_ms: f64,
    /// p99 over streams of their largest gap.
    pub max_gap_p99_ms: f64,
    /// RTP datagrams from unknown sources.
    pub stray: u64,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ToolCpu {
    pub user_s: f64,
    pub system_s: f64,
    pub window_s: f64,
    /// (user + system) / window, % of one core.
    pub pct_of_core: f64,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SentReport {
    /// RTP packets built for sending (including those dropped).
    pub packets: u64,
    /// Packets dropped on purpose by `--loss` (never sent).
    pub dropped: u64,
    pub dropped_pct: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RoomReport {
    pub room: String,
    pub members: usize,
    pub bursts: u64,
    /// Seconds from the start of the hold phase to the room's first burst (the room had to
    /// fall quiet first: join tones, announcements).
    pub first_burst_after_s: Option<f64>,
    /// Listeners that did not hear a burst within 1 s.
    pub missed: u64,
    pub delay_ms: Summary,
}

impl Report {
    pub(crate) fn build(r: &Runner) -> Report {
        let s = &r.sip_stats;
        let setup_secs = match (s.first_invite, s.last_answer) {
            (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let ok: usize = s
            .bye_answers
            .iter()
            .filter(|(st, _)| (200..300).contains(*st))
            .map(|(_, n)| n)
            .sum();
        let ok = ok.min(s.byes_sent);
        let mut streams = StreamsReport::default();
        let mut gaps = Vec::new();
        for stream in r.calls.iter().filter_map(|c| c.stream.as_ref()) {
            let x = stream.rx.report();
            streams.count += 1;
            streams.silent += usize::from(x.received == 0);
            let t = &mut streams.totals;
            t.received += x.received;
            t.expected += x.expected;
            t.lost += x.lost;
            t.duplicates += x.duplicates;
            t.reordered += x.reordered;
            t.late += x.late;
            t.missing += x.missing;
            t.max_gap_ms = t.max_gap_ms.max(x.max_gap_ms);
            gaps.push(x.max_gap_ms);
        }
        let t = streams.totals;
        streams.loss_pct = pct(t.lost, t.expected);
        streams.late_or_missing_pct =
            pct(t.late + t.missing, t.expected.max(t.received + t.missing));
        streams.max_gap_ms = t.max_gap_ms;
        streams.max_gap_p99_ms = Summary::of(&gaps).p99.unwrap_or(0.0);
        streams.stray = r.stray;
        let all_delays: Vec<f64> = r
            .rooms
            .iter()
            .flat_map(|room| room.delays_ms.iter().copied())
            .collect();
        let rooms = r
            .rooms
            .iter()
            .enumerate()
            .map(|(i, room)| RoomReport {
                room: room.name.clone(),
                members: r
                    .calls
                    .iter()
                    .filter(|c| c.room == i && c.stream.is_some())
                    .count(),
                bursts: room.bursts,
                first_burst_after_s: room.first_burst.zip(r.hold).map(|(b, (from, _))| {
                    b.saturating_duration_since(from - r.cfg.warmup)
                        .as_secs_f64()
                }),
                missed: room.missed,
                delay_ms: Summary::of(&room.delays_ms),
            })
            .collect();
        let setup_failed: usize = s.failures.values().sum();
        let unconfirmed = s.byes_sent - ok;
        let answered = r
            .calls
            .iter()
            .filter(|c| c.state != CallState::Setup || c.stream.is_some())
            .count();
        Report {
            mode: match r.cfg.mode {
                Mode::Call { .. } => "call",
                Mode::Answer => "answer",
                Mode::Janus { .. } => "janus",
            },
            calls: CallsReport {
                attempted: r.calls.len(),
                answered: s.answered.min(answered),
                setup_rate_cps: if setup_secs > 0.0 {
                    s.answered as f64 / setup_secs
                } else {
                    0.0
                },
                setup_ms: Summary::of(&s.setup_ms),
                failed: s.failures.clone(),
                dropped: s.dropped,
            },
            hangup: HangupReport {
                byes_sent: s.byes_sent,
                answers: s.bye_answers.clone(),
                ok,
            },
            streams,
            sent: SentReport {
                packets: r.packets_built,
                dropped: r.packets_dropped,
                dropped_pct: pct(r.packets_dropped, r.packets_built),
            },
            bridge_delay_ms: Summary::of(&all_delays),
            rooms,
            lateness: r.lateness.report(),
            lateness_window: r.lateness_window.report(),
            send_time: r.send_time.report(),
            send_time_window: r.send_time_window.report(),
            tool_cpu: match (r.own_cpu, r.measuring, r.window_end) {
                ([Some(a), Some(b)], Some(from), Some(to)) => {
                    let window_s = to.saturating_duration_since(from).as_secs_f64();
                    let (user_s, system_s) = (b.0 - a.0, b.1 - a.1);
                    Some(ToolCpu {
                        user_s,
                        system_s,
                        window_s,
                        pct_of_core: pct_f(user_s + system_s, window_s),
                    })
                }
                _ => None,
            },
            quiet_wait_s: r.measuring.zip(r.hold).map(|(m, (from, _))| {
                m.saturating_duration_since(from - r.cfg.warmup)
                    .as_secs_f64()
            }),
            failures: setup_failed + unconfirmed,
            server: r.server.clone(),
        }
    }

    /// The human summary.
    pub fn human(&self) -> String {
        let mut o = String::new();
        let c = &self.calls;
        let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
        let _ = writeln!(o, "konferenz-load ({} mode)", self.mode);
        let _ = writeln!(
            o,
            "calls      {} attempted, {} answered, {} failed ({} dropped); {:.1} calls/s",
            c.attempted, c.answered, self.failures, c.dropped, c.setup_rate_cps
        );
        let _ = writeln!(
            o,
            "setup      p50 {} ms, p99 {} ms, max {} ms",
            ms(c.setup_ms.p50),
            ms(c.setup_ms.p99),
            ms(c.setup_ms.max)
        );
        for (why, n) in &c.failed {
            let _ = writeln!(o, "  failed   {n} × {why}");
        }
        let h = &self.hangup;
        let _ = writeln!(
            o,
            "hang-up    {} BYEs sent, {} answered 2xx, answers {:?}",
            h.byes_sent, h.ok, h.answers
        );
        let s = &self.streams;
        let _ = writeln!(
            o,
            "streams    {} ({} silent): {} received, {} lost ({:.3} %), {} dup, {} reordered",
            s.count,
            s.silent,
            s.totals.received,
            s.totals.lost,
            s.loss_pct,
            s.totals.duplicates,
            s.totals.reordered
        );
        let _ = writeln!(
            o,
            "           late {} + missing {} ({:.3} % of slots); max gap {:.1} ms (p99 over streams {:.1} ms); stray {}",
            s.totals.late,
            s.totals.missing,
            s.late_or_missing_pct,
            s.max_gap_ms,
            s.max_gap_p99_ms,
            s.stray
        );
        let x = &self.sent;
        let _ = writeln!(
            o,
            "sent       {} packets, {} dropped on purpose ({:.3} %)",
            x.packets, x.dropped, x.dropped_pct
        );
        let d = &self.bridge_delay_ms;
        let _ = writeln!(
            o,
            "bridge     delay p50 {} ms, p99 {} ms, max {} ms ({} samples)",
            ms(d.p50),
            ms(d.p99),
            ms(d.max),
            d.count
        );
        for r in &self.rooms {
            let _ = writeln!(
                o,
                "  room {:<6} {:>3} members, {:>3} bursts (first after {}s), {:>4} heard, {:>3} missed; p50 {} p99 {} max {} ms",
                r.room,
                r.members,
                r.bursts,
                r.first_burst_after_s
                    .map_or("-".into(), |s| format!("{s:.1}")),
                r.delay_ms.count,
                r.missed,
                ms(r.delay_ms.p50),
                ms(r.delay_ms.p99),
                ms(r.delay_ms.max)
            );
        }
        if let Some(v) = &self.server {
            let _ = writeln!(
                o,
                "server     pid {}: {:.2} s CPU ({:.2} s system) in {:.1} s ({:.1} % of a core, {:.0} µs per participant-second); RSS {} → {} KiB",
                v.pid,
                v.cpu_s,
                v.cpu_system_s,
                v.window_s,
                v.cpu_pct_of_core,
                v.cpu_us_per_participant_s,
                v.rss_kib_start,
                v.rss_kib_end
            );
        }
        let l = &self.lateness;
        let _ = writeln!(
            o,
            "own send   {} slots: started late p99 {:.2} ms, max {:.2} ms, {} ticks > 2 ms",
            l.ticks, l.p99_ms, l.max_ms, l.over_2ms
        );
        let l = &self.lateness_window;
        let _ = writeln!(
            o,
            "  window   {} slots: started late p99 {:.2} ms, max {:.2} ms, {} ticks > 2 ms",
            l.ticks, l.p99_ms, l.max_ms, l.over_2ms
        );
        let l = &self.send_time_window;
        let _ = writeln!(
            o,
            "  sending  one slot took p99 {:.2} ms, max {:.2} ms (window)",
            l.p99_ms, l.max_ms
        );
        if let Some(c) = &self.tool_cpu {
            let _ = writeln!(
                o,
                "own CPU    {:.2} s user + {:.2} s system in {:.1} s ({:.1} % of a core)",
                c.user_s, c.system_s, c.window_s, c.pct_of_core
            );
        }
        o
    }
}

fn pct_f(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        part * 100.0 / whole
    } else {
        0.0
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
