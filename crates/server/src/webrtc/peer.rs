//! One browser's peer connection: a str0m `Rtc` (ICE-lite, DTLS-SRTP, Opus only) and the
//! translation between str0m's media frames and the plain RTP packets of the room's leg.

use std::net::SocketAddr;
use std::time::Instant;

use konferenz_conference::CallId;
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid};
use str0m::{Candidate, Event, IceConnectionState, Output, Rtc};

use super::link::PeerEnd;

/// Why an offer could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("the offer is not valid SDP: {0}")]
    Sdp(String),
    #[error("the offer has no audio we can use (Opus): {0}")]
    Refused(String),
}

/// The SSRC the room's leg sees for a browser's stream (str0m keeps the browser's own).
fn room_ssrc(call: CallId) -> u32 {
    0x4B5A_0000 ^ call.0 as u32
}

/// A browser's peer connection and where its audio goes.
pub struct Peer {
    pub call: CallId,
    pub rtc: Rtc,
    pub end: PeerEnd,
    /// The offer's audio m-line (its `a=mid`).
    mid: Mid,
    /// When str0m wants to be woken next.
    pub timeout: Instant,
    /// ICE went disconnected at (the browser's network dropped; it may come back).
    pub disconnected_since: Option<Instant>,
    pub connected: bool,
}

/// A new ICE-lite peer connection answering `offer`, reachable at `local`.
pub struct Answer {
    rtc: Rtc,
    mid: Mid,
    pub sdp: String,
}

impl Answer {
    /// The payload type the browser offered for Opus (what the room's leg must expect).
    pub fn opus_payload_type(&mut self) -> Option<u8> {
        let writer = self.rtc.writer(self.mid)?;
        writer
            .payload_params()
            .find(|p| p.spec().codec == Codec::Opus)
            .map(|p| *p.pt())
    }

    pub fn new(offer: &str, local: SocketAddr, now: Instant) -> Result<Answer, OfferError> {
        let offer = SdpOffer::from_sdp_string(offer).map_err(|e| OfferError::Sdp(e.to_string()))?;
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .clear_codecs()
            .enable_opus(true, false)
            .build(now);
        let candidate =
            Candidate::host(local, "udp").map_err(|e| OfferError::Refused(e.to_string()))?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| OfferError::Refused(e.to_string()))?;
        let sdp = answer.to_sdp_string();
        // The audio m-line's mid (str0m announces media only after DTLS; the writer works
        // before that).
        let mid = sdp
            .lines()
            .skip_while(|l| !l.starts_with("m=audio"))
            .find_map(|l| l.strip_prefix("a=mid:"))
            .map(|m| Mid::from(m.trim()))
            .ok_or_else(|| OfferError::Refused("no audio section".into()))?;
        if !sdp
            .lines()
            .any(|l| l.starts_with("m=audio") && !l.starts_with("m=audio 0 "))
        {
            return Err(OfferError::Refused("audio was rejected".into()));
        }
        Ok(Answer { rtc, mid, sdp })
    }
}

impl Peer {
    /// The peer of `call` on this answer's connection, its audio going to `end`.
    pub fn new(call: CallId, answer: Answer, end: PeerEnd, now: Instant) -> Peer {
        Peer {
            call,
            rtc: answer.rtc,
            end,
            mid: answer.mid,
            timeout: now,
            disconnected_since: None,
            connected: false,
        }
    }

    /// Runs str0m until it waits: datagrams to send go to `transmit`; audio goes to the
    /// room. Returns false when the peer connection is over for good (closed, failed).
    pub fn drain(&mut self, mut transmit: impl FnMut(SocketAddr, SocketAddr, &[u8])) -> bool {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.timeout = t;
                    return self.rtc.is_alive();
                }
                Ok(Output::Transmit(t)) => transmit(t.source, t.destination, &t.contents),
                Ok(Output::Event(event)) => self.on_event(event),
                Err(e) => {
                    tracing::debug!(call = %self.call, error = %e, "browser peer failed");
                    return false;
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected => {
                self.connected = true;
                tracing::info!(call = %self.call, "browser connected (ICE and DTLS up)");
            }
            Event::IceConnectionStateChange(state) => {
                tracing::debug!(call = %self.call, ?state, "browser ICE state");
                match state {
                    IceConnectionState::Disconnected => {
                        self.disconnected_since.get_or_insert(Instant::now());
                    }
                    _ => self.disconnected_since = None,
                }
            }
            Event::MediaData(data) => {
                // A plain RTP packet for the room's leg: the browser's sequence number and
                // timestamp, our SSRC, its payload type.
                let mut packet = [0u8; konferenz_media::MAX_PACKET];
                let payload = &data.data[..data.data.len().min(packet.len() - 12)];
                packet[0] = 0x80;
                packet[1] = *data.pt & 0x7F;
                packet[2..4].copy_from_slice(&(**data.seq_range.start() as u16).to_be_bytes());
                packet[4..8].copy_from_slice(&(data.time.numer() as u32).to_be_bytes());
                packet[8..12].copy_from_slice(&room_ssrc(self.call).to_be_bytes());
                packet[12..12 + payload.len()].copy_from_slice(payload);
                let _ = self.end.deliver(&packet[..12 + payload.len()]);
            }
            _ => {}
        }
    }

    /// Sends one packet from the room (plain RTP: its payload type, timestamp and
    /// payload are used) once the connection is up.
    pub fn send(&mut self, packet: &[u8], now: Instant) {
        if !self.rtc.is_connected() || packet.len() < 12 {
            return;
        }
        let Some(writer) = self.rtc.writer(self.mid) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == Codec::Opus)
            .map(|p| p.pt())
        else {
            return;
        };
        let ts = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let time = MediaTime::new(u64::from(ts), Frequency::FORTY_EIGHT_KHZ);
        if let Err(e) = writer.write(pt, now, time, &packet[12..]) {
            tracing::debug!(call = %self.call, error = %e, "browser write failed");
        }
    }
}
