//! A call's media in the rooms: started in its room's voice menu when the SDP exchange is
//! done (at accept, or when the ACK brings the answer), updated on re-INVITE.

use konferenz_conference::CallId;
use konferenz_media::{Codec, LegConfig, srtp};
use konferenz_sip::{CallHandle, CryptoSuite, Direction, NegotiatedMedia};

use super::State;
use crate::room::{MediaTarget, RoomCommand};

impl State {
    /// Starts the caller's media in its room, or applies renegotiated media.
    pub(super) fn on_media(&mut self, call: CallHandle, media: NegotiatedMedia) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(target) = media_target(entry.ssrc, entry.srtp_key, &media) else {
            tracing::warn!(call = %call, codec = media.codec.name, "negotiated a codec the mixer cannot use");
            return;
        };
        if entry.joined {
            if let Some(room) = &entry.room {
                self.rooms.send(
                    room,
                    RoomCommand::Update {
                        call: CallId(call.0),
                        media: target,
                    },
                );
            }
            return;
        }
        let (Some(sockets), Some((entry_kind, menu)), Some(room)) =
            (entry.sockets.take(), entry.entry.take(), entry.room.clone())
        else {
            return;
        };
        match media.srtp {
            Some(key) => {
                tracing::info!(call = %call, "media encrypted (SRTP {})", key.suite.name())
            }
            None => tracing::debug!(call = %call, "media in the clear (RTP)"),
        }
        entry.joined = true;
        self.rooms.join(
            &room,
            RoomCommand::Join {
                call: CallId(call.0),
                io: crate::room::MediaPath::Sockets(sockets),
                media: target,
                entry: entry_kind,
                menu,
                wallclock: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default(),
            },
        );
    }
}

/// Maps negotiated SDP onto what the media leg needs.
fn media_target(
    ssrc: u32,
    srtp_key: [u8; konferenz_sip::sdp::SDES_KEY_LEN],
    media: &NegotiatedMedia,
) -> Option<MediaTarget> {
    let codec = match media.codec.name {
        "PCMU" => Codec::Pcmu,
        "PCMA" => Codec::Pcma,
        "G722" => Codec::G722,
        "opus" => Codec::Opus,
        _ => return None,
    };
    let send = media.remote_rtp.is_some()
        && matches!(
            media.remote_direction,
            Direction::SendRecv | Direction::RecvOnly
        );
    Some(MediaTarget {
        config: LegConfig {
            codec,
            payload_type: media.payload_type,
            dtmf_payload_type: media.dtmf_payload_type,
            ssrc,
        },
        remote: media.remote_rtp,
        send,
        srtp: media.srtp.map(|theirs| srtp::Keys {
            suite: match theirs.suite {
                CryptoSuite::AesCm128HmacSha1_80 => srtp::Suite::AesCm128HmacSha1_80,
                CryptoSuite::AesCm128HmacSha1_32 => srtp::Suite::AesCm128HmacSha1_32,
            },
            local: srtp_key,
            remote: theirs.key,
        }),
    })
}
