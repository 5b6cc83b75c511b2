//! The mixer threads: plain OS threads (not async tasks) that run the rooms, each room on
//! its own absolute 20 ms clock. A thread sleeps precisely (`nanosleep`, not a 1 ms timer
//! wheel) until the next room is due, applies that room's pending commands and ticks it.
//! New rooms get clock phases spread evenly over the 20 ms frame (a Weyl sequence), so
//! rooms do not queue up behind each other at the same instant. Threads ask for real-time
//! scheduling (SCHED_FIFO) when allowed, so signalling and HTTP work never delays a tick.

use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use konferenz_media::FRAME_DURATION;

use crate::room::{Room, RoomCommand, RoomEvent, SocketIo};

/// A room handed to a mixer thread, with its command inbox and where its events go.
pub struct RoomJob {
    pub room: Room,
    pub commands: mpsc::Receiver<RoomCommand>,
    pub events: mpsc::Sender<RoomEvent>,
    /// The server's media metrics (rooms running, ticks skipped).
    pub metrics: std::sync::Arc<crate::metrics::MediaMetrics>,
}

/// Handles to the mixer threads; rooms are spread over them round robin. Dropping it lets
/// the threads end once their rooms have closed.
pub struct MixerThreads {
    inboxes: Vec<std_mpsc::Sender<RoomJob>>,
    next: usize,
}

impl MixerThreads {
    /// Starts `threads` mixer threads (at least one).
    pub fn start(threads: usize, realtime: bool) -> MixerThreads {
        let inboxes = (0..threads.max(1))
            .map(|i| {
                let (tx, rx) = std_mpsc::channel();
                std::thread::Builder::new()
                    .name(format!("mixer-{i}"))
                    .spawn(move || run(rx, realtime))
                    .expect("spawning a mixer thread");
                tx
            })
            .collect();
        MixerThreads { inboxes, next: 0 }
    }

    /// Hands a room to the next thread.
    pub fn add(&mut self, job: RoomJob) {
        let i = self.next % self.inboxes.len();
        self.next = self.next.wrapping_add(1);
        if self.inboxes[i].send(job).is_err() {
            warn!("a mixer thread has ended; room not started");
        }
    }
}

/// One room on a thread.
struct Running {
    job: RoomJob,
    deadline: Instant,
    pending: Vec<RoomEvent>,
    /// Events the SIP task had no room for, offered again next time.
    retry: Vec<RoomEvent>,
    closed: bool,
}

/// Rooms due this soon are ticked in the same wake-up, a little early: a sleep and wake
/// costs tens of microseconds, about a room's whole tick, so waking once per room would
/// waste the core on wake-ups (and delay the rooms queued behind them).
const EARLY: Duration = Duration::from_micros(2000);

/// Talking events are handed to the SIP task together, this often per mixer thread: each
/// hand-over may wake the SIP task, and a talking indicator 100 ms late is still live.
const TALKING_EVERY: Duration = Duration::from_millis(100);

/// The golden-ratio step: the phases k·φ mod 1 stay evenly spread for any count.
const PHASE_STEP: f64 = 0.618_033_988_749_895;

fn run(inbox: std_mpsc::Receiver<RoomJob>, realtime: bool) {
    if realtime {
        try_realtime();
    }
    let epoch = Instant::now();
    let mut io = SocketIo::new();
    let mut rooms: Vec<Running> = Vec::new();
    let mut started = 0u64;
    let mut talking_due = epoch;
    loop {
        // Take new rooms; with none to run, wait for one (or end with the server).
        loop {
            let job = if rooms.is_empty() {
                match inbox.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            } else {
                match inbox.try_recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            };
            started += 1;
            let deadline = next_slot(epoch, Instant::now() + FRAME_DURATION, started);
            job.metrics.rooms.inc();
            rooms.push(Running {
                job,
                deadline,
                pending: Vec::new(),
                retry: Vec::new(),
                closed: false,
            });
        }
        let Some(due) = rooms.iter().map(|r| r.deadline).min() else {
            continue;
        };
        let now = Instant::now();
        if due > now + EARLY {
            std::thread::sleep(due - now - EARLY);
        }
        let now = Instant::now();
        for r in rooms.iter_mut().filter(|r| r.deadline <= now + EARLY) {
            serve(r, Instant::now(), &mut io);
        }
        let flush_talking = now >= talking_due;
        if flush_talking {
            talking_due = now + TALKING_EVERY;
        }
        rooms.retain_mut(|r| {
            // The SIP task's queue is bounded: what does not fit now stays pending and is
            // offered again at the room's next wake-up (never dropped, never blocking).
            // Talking changes wait for the thread's next talking hand-over.
            let hold_talking = !flush_talking && !r.closed;
            let mut drain = r.pending.drain(..);
            while let Some(event) = drain.next() {
                if hold_talking && matches!(event, RoomEvent::Talking { .. }) {
                    r.retry.push(event);
                    continue;
                }
                if let Err(mpsc::error::TrySendError::Full(event)) = r.job.events.try_send(event) {
                    r.retry.push(event);
                    r.retry.extend(drain.by_ref());
                    break;
                }
            }
            drop(drain);
            std::mem::swap(&mut r.pending, &mut r.retry);
            if r.closed {
                r.job.room.closed();
                debug!(room = %r.job.room.number(), stats = ?r.job.room.stats, "room closed");
            }
            !r.closed
        });
    }
}

/// Applies a due room's commands, then ticks it (unless a command closed it).
fn serve(r: &mut Running, now: Instant, io: &mut SocketIo) {
    loop {
        match r.job.commands.try_recv() {
            Ok(command) => {
                if !r.job.room.command(now, command) {
                    r.closed = true;
                    return;
                }
                r.job.room.take_events(&mut r.pending);
            }
            Err(mpsc::error::TryRecvError::Empty) => break,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                r.closed = true;
                return;
            }
        }
    }
    let lateness = now.saturating_duration_since(r.deadline);
    r.job.room.tick_started(lateness);
    r.job.room.tick(now, io, &mut r.pending);
    r.deadline += FRAME_DURATION;
    if lateness > FRAME_DURATION * 5 {
        // A stall (suspend, overload): re-anchor instead of bursting ticks.
        let skipped = (lateness.as_millis() / FRAME_DURATION.as_millis()) as u64;
        r.job.room.stats.skipped += skipped;
        r.job.metrics.ticks_skipped.inc_by(skipped);
        warn!(room = %r.job.room.number(), skipped, "mixer clock stalled; re-anchored");
        r.deadline = now + FRAME_DURATION;
    }
}

/// The first deadline at or after `earliest` in the `k`-th room's phase of the frame.
fn next_slot(epoch: Instant, earliest: Instant, k: u64) -> Instant {
    let frame = FRAME_DURATION.as_nanos() as u64;
    let phase = ((k as f64 * PHASE_STEP).fract() * frame as f64) as u64;
    let since = earliest.saturating_duration_since(epoch).as_nanos() as u64;
    let base = since - since % frame + phase;
    let at = if base >= since { base } else { base + frame };
    epoch + Duration::from_nanos(at)
}

/// SCHED_FIFO for this thread when the process may (root or CAP_SYS_NICE); the kernel's
/// real-time throttling still leaves other threads 5 % of each second.
fn try_realtime() {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: plain syscall on the calling thread (pid 0) with a valid parameter.
    let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if r == 0 {
        info!("mixer thread runs with real-time priority");
    } else {
        debug!(error = %std::io::Error::last_os_error(), "no real-time priority for the mixer");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_spread_over_the_frame_and_slots_are_not_early() {
        let epoch = Instant::now();
        let earliest = epoch + Duration::from_millis(1234);
        let mut phases: Vec<u64> = (1..=10)
            .map(|k| {
                let at = next_slot(epoch, earliest, k);
                assert!(at >= earliest && at < earliest + FRAME_DURATION);
                (at - epoch).as_micros() as u64 % 20_000
            })
            .collect();
        phases.sort_unstable();
        let gaps: Vec<u64> = phases.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|&g| g >= 1000),
            "ten rooms at least 1 ms apart: {phases:?}"
        );
    }
}
