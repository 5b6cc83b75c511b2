//! RTP fixed header (RFC 3550 §5.1): bounds-checked parsing (CSRCs, header extension,
//! padding) and writing, and RTP/RTCP demultiplexing on one port (RFC 5761 §4).

use crate::MediaError;

/// Length of the fixed RTP header.
pub const RTP_HEADER_LEN: usize = 12;

/// A parsed RTP packet borrowing its payload from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Marker bit (start of a talkspurt for audio).
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Payload with CSRCs, extension and padding removed.
    pub payload: &'a [u8],
}

/// True if the datagram is RTCP rather than RTP: the second byte without the marker bit is
/// 64–95, i.e. RTCP packet types 192–223 (RFC 5761 §4).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && (64..=95).contains(&(datagram[1] & 0x7F))
}

impl<'a> RtpPacket<'a> {
    /// Parses an RTP packet; every length field is checked against the datagram.
    pub fn parse(buf: &'a [u8]) -> Result<Self, MediaError> {
        if buf.len() < RTP_HEADER_LEN || buf[0] >> 6 != 2 {
            return Err(MediaError::Malformed);
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc_count = (buf[0] & 0x0F) as usize;
        let mut offset = RTP_HEADER_LEN + 4 * csrc_count;
        if extension {
            // 16-bit profile-defined id, 16-bit length in 32-bit words (RFC 3550 §5.3.1).
            let ext = buf.get(offset..offset + 4).ok_or(MediaError::Malformed)?;
            offset += 4 + 4 * u16::from_be_bytes([ext[2], ext[3]]) as usize;
        }
        if offset > buf.len() {
            return Err(MediaError::Malformed);
        }
        let mut end = buf.len();
        if padding {
            // The last octet counts the padding octets, itself included.
            let pad = buf[end - 1] as usize;
            if pad == 0 || pad > end - offset {
                return Err(MediaError::Malformed);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[offset..end],
        })
    }
}

/// Writes a 12-byte RTP header (version 2, no padding, extension or CSRCs) into `buf`.
pub fn write_header(
    buf: &mut [u8],
    marker: bool,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
) {
    buf[0] = 0x80;
    buf[1] = (payload_type & 0x7F) | if marker { 0x80 } else { 0 };
    buf[2..4].copy_from_slice(&sequence.to_be_bytes());
    buf[4..8].copy_from_slice(&timestamp.to_be_bytes());
    buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(b0: u8) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        write_header(&mut p, true, 0, 65535, 0xDEAD_BEEF, 0x1234_5678);
        p[0] = b0;
        p
    }

    #[test]
    fn written_header_parses_back() {
        let mut p = [0u8; 16];
        write_header(&mut p, true, 8, 65535, 0xDEAD_BEEF, 0x1234_5678);
        p[12..].copy_from_slice(&[1, 2, 3, 4]);
        let r = RtpPacket::parse(&p).unwrap();
        assert!(r.marker);
        assert_eq!(
            (r.payload_type, r.sequence, r.timestamp, r.ssrc),
            (8, 65535, 0xDEAD_BEEF, 0x1234_5678)
        );
        assert_eq!(r.payload, &[1, 2, 3, 4]);
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut p = header(0x80 | 0x20 | 0x10 | 2);
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]); // two CSRCs
        p.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]); // one-word extension
        p.extend_from_slice(&[7, 7, 7]); // payload
        p.extend_from_slice(&[0, 0, 3]); // three octets of padding
        let r = RtpPacket::parse(&p).unwrap();
        assert_eq!(r.payload, &[7, 7, 7]);
    }

    #[test]
    fn malformed_headers_are_rejected() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(MediaError::Malformed));
        assert_eq!(RtpPacket::parse(&header(0x40)), Err(MediaError::Malformed)); // version 1
        assert_eq!(
            RtpPacket::parse(&header(0x80 | 3)),
            Err(MediaError::Malformed)
        ); // CSRCs missing
        assert_eq!(RtpPacket::parse(&header(0x90)), Err(MediaError::Malformed)); // extension missing
        let mut ext_too_long = header(0x90);
        ext_too_long.extend_from_slice(&[0, 0, 0, 5]);
        assert_eq!(RtpPacket::parse(&ext_too_long), Err(MediaError::Malformed));
        let mut zero_pad = header(0xA0);
        zero_pad.push(0);
        assert_eq!(RtpPacket::parse(&zero_pad), Err(MediaError::Malformed));
        let mut pad_too_long = header(0xA0);
        pad_too_long.push(2);
        assert_eq!(RtpPacket::parse(&pad_too_long), Err(MediaError::Malformed));
    }

    #[test]
    fn rtcp_is_told_apart_from_rtp() {
        assert!(is_rtcp(&[0x80, 200]));
        assert!(is_rtcp(&[0x81, 201]));
        assert!(!is_rtcp(&[0x80, 0]));
        assert!(!is_rtcp(&[0x80, 0x80 | 8])); // PCMA with marker
        assert!(!is_rtcp(&[0x80, 101]));
        assert!(!is_rtcp(&[0x80]));
    }
}
