//! SDP offer/answer for one audio stream (RFC 3264): reading a peer's offer or answer,
//! choosing a codec, telephone-event and SRTP keys (SDES, RFC 4568), and writing our
//! answer or offer.

mod crypto;

use std::net::{IpAddr, SocketAddr};

use sdp_types::{Attribute, Connection, Media, Origin, Session, Time};

pub use crypto::{CryptoSuite, SDES_KEY_LEN, SdesKey};

/// An audio codec we can offer or accept, in order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecSpec {
    /// Encoding name as in `a=rtpmap` (compared case-insensitively), e.g. `PCMU`.
    pub name: &'static str,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// The static payload type (RFC 3551), if it has one.
    pub static_payload_type: Option<u8>,
}

/// Which way media flows, from the peer's SDP (RFC 3264 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction we answer with when the peer offered `self`.
    fn answer(self) -> Self {
        match self {
            Self::SendRecv => Self::SendRecv,
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            Self::Inactive => Self::Inactive,
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }
}

/// The result of a completed offer/answer exchange: what the media layer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// Where the peer wants RTP sent (None when the peer put the stream on hold with 0.0.0.0
    /// or port 0 was given for a still-active stream).
    pub remote_rtp: Option<SocketAddr>,
    /// The chosen codec.
    pub codec: CodecSpec,
    /// The payload type used for `codec` in this session.
    pub payload_type: u8,
    /// The payload type of telephone-event/8000, if both sides support it.
    pub dtmf_payload_type: Option<u8>,
    /// The peer's direction as stated in its SDP.
    pub remote_direction: Direction,
    /// The peer's SRTP key (SDES) when the stream is to be encrypted: in an offer the
    /// first crypto line we can use, in an answer the one the peer chose. The endpoint
    /// clears it where its SRTP policy does not allow SRTP.
    pub srtp: Option<SdesKey>,
    /// The peer used the profile RTP/SAVP (SRTP or nothing) rather than RTP/AVP.
    pub secure_profile: bool,
}

/// Why an offer or answer cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    /// The body is not SDP.
    #[error("SDP does not parse: {0}")]
    Syntax(String),
    /// No `m=audio` line with RTP/AVP or RTP/SAVP.
    #[error("no RTP/AVP or RTP/SAVP audio stream offered")]
    NoAudio,
    /// No codec in common.
    #[error("no codec in common")]
    NoCommonCodec,
}

/// Our side of the session: where we receive and what we support.
#[derive(Clone, Debug)]
pub struct LocalMedia {
    /// Our RTP address (RTCP is on the next port, RFC 3550 §11).
    pub rtp: SocketAddr,
    /// Our SRTP key, when the call may be encrypted: put in an answer when the peer's
    /// offer is used with SRTP, and in our offers as the endpoint's policy says.
    pub srtp: Option<LocalSrtp>,
}

impl LocalMedia {
    /// Plain RTP at `rtp`.
    pub fn plain(rtp: SocketAddr) -> Self {
        Self { rtp, srtp: None }
    }
}

/// Our side of SDES.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LocalSrtp {
    /// Master key and salt (random per call).
    pub key: [u8; SDES_KEY_LEN],
    /// Offers use RTP/SAVP (the peer must encrypt) rather than RTP/AVP with crypto lines
    /// (encrypted when the peer understands them, RFC 4568 §7.1.1's "best effort").
    pub savp: bool,
}

impl std::fmt::Debug for LocalSrtp {
    // The key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSrtp")
            .field("savp", &self.savp)
            .finish()
    }
}

/// The telephone-event payload type we offer when we make the offer.
pub const OFFERED_DTMF_PT: u8 = 101;

/// The tag of the one crypto line in our offers.
pub const OFFERED_CRYPTO_TAG: u32 = 1;

/// A peer's audio stream description, as far as we use it.
#[derive(Debug)]
struct RemoteAudio {
    addr: Option<IpAddr>,
    port: u16,
    /// (payload type, encoding name, clock rate) in the peer's order of preference.
    formats: Vec<(u8, String, u32)>,
    direction: Direction,
    /// The proto was RTP/SAVP.
    savp: bool,
    /// Crypto lines we can use, in the peer's order.
    crypto: Vec<SdesKey>,
}

fn parse_remote(body: &[u8]) -> Result<RemoteAudio, SdpError> {
    let session = Session::parse(body).map_err(|e| SdpError::Syntax(e.to_string()))?;
    let media = session
        .medias
        .iter()
        .find(|m| {
            m.media == "audio"
                && m.port != 0
                && (m.proto.eq_ignore_ascii_case("RTP/AVP")
                    || m.proto.eq_ignore_ascii_case("RTP/SAVP"))
        })
        .ok_or(SdpError::NoAudio)?;
    let savp = media.proto.eq_ignore_ascii_case("RTP/SAVP");
    let crypto = media
        .attributes
        .iter()
        .filter(|a| a.attribute.eq_ignore_ascii_case("crypto"))
        .filter_map(|a| a.value.as_deref())
        .filter_map(SdesKey::parse)
        .collect();
    let connection = media.connections.first().or(session.connection.as_ref());
    let addr = connection
        .and_then(|c| c.connection_address.split('/').next())
        .and_then(|a| a.parse::<IpAddr>().ok())
        .filter(|a| !a.is_unspecified());
    let mut formats = Vec::new();
    for fmt in media.fmt.split_whitespace() {
        let Ok(pt) = fmt.parse::<u8>() else { continue };
        if pt > 127 {
            continue;
        }
        let rtpmap = media
            .attributes
            .iter()
            .filter(|a| a.attribute.eq_ignore_ascii_case("rtpmap"))
            .filter_map(|a| a.value.as_deref())
            .find_map(|v| {
                let (p, rest) = v.split_once(char::is_whitespace)?;
                (p.trim().parse::<u8>().ok()? == pt).then_some(rest.trim())
            });
        let (name, rate) = match rtpmap {
            Some(map) => {
                let mut parts = map.split('/');
                let name = parts.next().unwrap_or_default().to_owned();
                let rate = parts.next().and_then(|r| r.parse().ok()).unwrap_or(0);
                (name, rate)
            }
            None => match static_name(pt) {
                Some((name, rate)) => (name.to_owned(), rate),
                None => continue,
            },
        };
        formats.push((pt, name, rate));
    }
    let direction = direction_of(&media.attributes)
        .or_else(|| direction_of(&session.attributes))
        .unwrap_or(Direction::SendRecv);
    Ok(RemoteAudio {
        addr,
        port: media.port,
        formats,
        direction,
        savp,
        crypto,
    })
}

fn static_name(pt: u8) -> Option<(&'static str, u32)> {
    match pt {
        0 => Some(("PCMU", 8000)),
        8 => Some(("PCMA", 8000)),
        9 => Some(("G722", 8000)),
        _ => None,
    }
}

fn direction_of(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().find_map(|a| match a.attribute.as_str() {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    })
}

/// Picks the first of the peer's formats that we support (the offerer's preference wins,
/// RFC 3264 §6.1) and telephone-event/8000 if offered.
fn choose(remote: &RemoteAudio, supported: &[CodecSpec]) -> Result<NegotiatedMedia, SdpError> {
    let (payload_type, codec) = remote
        .formats
        .iter()
        .find_map(|(pt, name, rate)| {
            supported
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name) && c.clock_rate == *rate)
                .map(|c| (*pt, *c))
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let dtmf_payload_type = remote
        .formats
        .iter()
        .find(|(_, name, rate)| name.eq_ignore_ascii_case("telephone-event") && *rate == 8000)
        .map(|(pt, _, _)| *pt);
    Ok(NegotiatedMedia {
        remote_rtp: remote.addr.map(|ip| SocketAddr::new(ip, remote.port)),
        codec,
        payload_type,
        dtmf_payload_type,
        remote_direction: remote.direction,
        srtp: remote.crypto.first().copied(),
        secure_profile: remote.savp,
    })
}

/// Reads a peer's offer and decides what to use (RFC 3264 §6).
pub fn negotiate_offer(body: &[u8], supported: &[CodecSpec]) -> Result<NegotiatedMedia, SdpError> {
    choose(&parse_remote(body)?, supported)
}

/// Reads a peer's answer to our offer (we offered `supported` with [`OFFERED_DTMF_PT`]).
pub fn read_answer(body: &[u8], supported: &[CodecSpec]) -> Result<NegotiatedMedia, SdpError> {
    choose(&parse_remote(body)?, supported)
}

/// Session-level fields shared by answers and offers.
fn session(local: &LocalMedia, session_id: u64, version: u64) -> Session {
    let ip = local.rtp.ip();
    let mut origin = Origin::with_ip_addr(session_id, version, ip);
    origin.set_username("konferenz");
    let mut s = Session::new(origin, "konferenz");
    s.connection = Some(Connection::from_ip_addr(ip));
    s.times.push(Time::new(0, 0));
    s
}

fn write(session: &Session) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // Writing into a Vec cannot fail.
    let _ = session.write(&mut out);
    out
}

fn audio_media(
    port: u16,
    formats: &[(u8, &str, u32)],
    direction: Direction,
    crypto: Option<(SdesKey, bool)>,
) -> Media {
    let fmt: Vec<String> = formats.iter().map(|(pt, _, _)| pt.to_string()).collect();
    let proto = match crypto {
        Some((_, true)) => sdp_types::TransportProto::RtpSavp,
        _ => sdp_types::TransportProto::RtpAvp,
    };
    let mut media = Media::new(sdp_types::MediaType::Audio, port, proto, fmt.join(" "));
    if let Some((key, _)) = crypto {
        media.add_attribute_with_value("crypto", key.attribute());
    }
    for (pt, name, rate) in formats {
        if name.eq_ignore_ascii_case("opus") {
            // RFC 7587 §7: always two channels in rtpmap; we take and send mono wideband.
            media.add_attribute_with_value("rtpmap", format!("{pt} opus/48000/2"));
            media.add_attribute_with_value(
                "fmtp",
                format!(
                    "{pt} maxplaybackrate=16000;sprop-maxcapturerate=16000;stereo=0;sprop-stereo=0"
                ),
            );
            continue;
        }
        media.add_attribute_with_value("rtpmap", format!("{pt} {name}/{rate}"));
        if name.eq_ignore_ascii_case("telephone-event") {
            media.add_attribute_with_value("fmtp", format!("{pt} 0-16"));
        }
    }
    media.add_attribute_with_value("ptime", "20");
    media.add_attribute(Attribute::new(direction.attribute()));
    media
}

/// Writes our answer to an offer we accepted with `chosen`.
pub fn write_answer(
    local: &LocalMedia,
    chosen: &NegotiatedMedia,
    session_id: u64,
    version: u64,
) -> Vec<u8> {
    let mut formats = vec![(
        chosen.payload_type,
        chosen.codec.name,
        chosen.codec.clock_rate,
    )];
    if let Some(pt) = chosen.dtmf_payload_type {
        formats.push((pt, "telephone-event", 8000));
    }
    // Our key under the tag and suite the peer chose, in the profile it used (RFC 4568 §7.1.2).
    let crypto = chosen.srtp.zip(local.srtp).map(|(theirs, ours)| {
        let key = SdesKey {
            key: ours.key,
            ..theirs
        };
        (key, chosen.secure_profile)
    });
    let mut s = session(local, session_id, version);
    s.medias.push(audio_media(
        local.rtp.port(),
        &formats,
        chosen.remote_direction.answer(),
        crypto,
    ));
    write(&s)
}

/// Writes our offer (for an offerless INVITE, or a 488 body telling what we accept).
pub fn write_offer(
    local: &LocalMedia,
    supported: &[CodecSpec],
    session_id: u64,
    version: u64,
) -> Vec<u8> {
    let mut next_dynamic = 96u8;
    let mut formats: Vec<(u8, &str, u32)> = supported
        .iter()
        .map(|c| {
            let pt = c.static_payload_type.unwrap_or_else(|| {
                next_dynamic += 1;
                next_dynamic - 1
            });
            (pt, c.name, c.clock_rate)
        })
        .collect();
    formats.push((OFFERED_DTMF_PT, "telephone-event", 8000));
    let crypto = local.srtp.map(|ours| {
        let key = SdesKey {
            tag: OFFERED_CRYPTO_TAG,
            suite: CryptoSuite::AesCm128HmacSha1_80,
            key: ours.key,
        };
        (key, ours.savp)
    });
    let mut s = session(local, session_id, version);
    s.medias.push(audio_media(
        local.rtp.port(),
        &formats,
        Direction::SendRecv,
        crypto,
    ));
    write(&s)
}

#[cfg(test)]
mod tests;
