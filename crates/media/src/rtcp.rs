//! RTCP (RFC 3550 §6.4): writing compound SR/RR + SDES CNAME reports and reading received
//! compound packets far enough to learn the peer's sender info and its report on our stream.

use crate::MediaError;

/// RTCP packet types (RFC 3550 §12.1).
const PT_SR: u8 = 200;
const PT_RR: u8 = 201;
const PT_SDES: u8 = 202;
const SDES_CNAME: u8 = 1;

/// Sender information of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// NTP timestamp, 32.32 fixed point.
    pub ntp: u64,
    /// RTP timestamp corresponding to `ntp`.
    pub rtp_timestamp: u32,
    /// Packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed).
    pub cumulative_lost: i32,
    /// Cycles (upper 16 bits) and highest sequence number received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from the source.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// What a received compound RTCP packet told us.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcpSummary {
    /// SSRC of the first SR/RR's sender.
    pub sender_ssrc: u32,
    /// Sender info, if the compound packet started with an SR.
    pub sender_info: Option<SenderInfo>,
    /// The report block about `our_ssrc`, if there was one.
    pub report_on_us: Option<ReportBlock>,
}

/// Parses a compound RTCP packet (RFC 3550 §6.1, validity checks of appendix A.2): the
/// first packet must be SR or RR, every packet version 2 and within bounds, padding only in
/// the last one. Unknown packet types (SDES, BYE, APP, feedback, XR) are skipped.
pub fn parse_compound(buf: &[u8], our_ssrc: u32) -> Result<RtcpSummary, MediaError> {
    let mut summary = RtcpSummary::default();
    let mut rest = buf;
    let mut first = true;
    while !rest.is_empty() {
        if rest.len() < 4 || rest[0] >> 6 != 2 {
            return Err(MediaError::Malformed);
        }
        let len = 4 * (u16::from_be_bytes([rest[2], rest[3]]) as usize + 1);
        if len > rest.len() {
            return Err(MediaError::Malformed);
        }
        let (packet, tail) = rest.split_at(len);
        let padded = packet[0] & 0x20 != 0;
        if padded && !tail.is_empty() {
            return Err(MediaError::Malformed);
        }
        let count = (packet[0] & 0x1F) as usize;
        let pt = packet[1];
        if first && pt != PT_SR && pt != PT_RR {
            return Err(MediaError::Malformed);
        }
        if pt == PT_SR || pt == PT_RR {
            let blocks_at = if pt == PT_SR { 28 } else { 8 };
            if len < blocks_at + 24 * count {
                return Err(MediaError::Malformed);
            }
            if first {
                summary.sender_ssrc = be32(&packet[4..]);
                if pt == PT_SR {
                    summary.sender_info = Some(SenderInfo {
                        ntp: (be32(&packet[8..]) as u64) << 32 | be32(&packet[12..]) as u64,
                        rtp_timestamp: be32(&packet[16..]),
                        packet_count: be32(&packet[20..]),
                        octet_count: be32(&packet[24..]),
                    });
                }
            }
            for block in packet[blocks_at..blocks_at + 24 * count].chunks_exact(24) {
                let block = read_block(block);
                if block.ssrc == our_ssrc {
                    summary.report_on_us = Some(block);
                }
            }
        }
        first = false;
        rest = tail;
    }
    if first {
        return Err(MediaError::Malformed);
    }
    Ok(summary)
}

/// Writes an SR (with `sender`) or RR (without), carrying `block` if given, followed by an
/// SDES with our CNAME (required in every compound packet, RFC 3550 §6.1). Returns the length.
/// `buf` must hold at least 100 bytes.
pub fn write_report(
    buf: &mut [u8],
    ssrc: u32,
    sender: Option<SenderInfo>,
    block: Option<ReportBlock>,
    cname: &[u8],
) -> usize {
    let count = block.is_some() as u8;
    let mut at = 4;
    put32(buf, &mut at, ssrc);
    let pt = if let Some(s) = sender {
        put32(buf, &mut at, (s.ntp >> 32) as u32);
        put32(buf, &mut at, s.ntp as u32);
        put32(buf, &mut at, s.rtp_timestamp);
        put32(buf, &mut at, s.packet_count);
        put32(buf, &mut at, s.octet_count);
        PT_SR
    } else {
        PT_RR
    };
    if let Some(b) = block {
        put32(buf, &mut at, b.ssrc);
        let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0xFF_FFFF;
        put32(buf, &mut at, (b.fraction_lost as u32) << 24 | lost);
        put32(buf, &mut at, b.extended_highest_seq);
        put32(buf, &mut at, b.jitter);
        put32(buf, &mut at, b.last_sr);
        put32(buf, &mut at, b.delay_since_last_sr);
    }
    write_common_header(buf, 0, count, pt, at);

    // SDES: one chunk, one CNAME item, then a null octet and padding to a 32-bit boundary.
    let start = at;
    let cname = &cname[..cname.len().min(255)];
    at += 4;
    put32(buf, &mut at, ssrc);
    buf[at] = SDES_CNAME;
    buf[at + 1] = cname.len() as u8;
    buf[at + 2..at + 2 + cname.len()].copy_from_slice(cname);
    at += 2 + cname.len();
    let end = (at + 4) & !3;
    buf[at..end].fill(0);
    write_common_header(buf, start, 1, PT_SDES, end - start);
    end
}

fn write_common_header(buf: &mut [u8], at: usize, count: u8, pt: u8, len: usize) {
    buf[at] = 0x80 | count;
    buf[at + 1] = pt;
    buf[at + 2..at + 4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
}

fn read_block(b: &[u8]) -> ReportBlock {
    let lost = be32(&b[4..]) & 0xFF_FFFF;
    ReportBlock {
        ssrc: be32(b),
        fraction_lost: b[4],
        // Sign-extend the 24-bit field.
        cumulative_lost: ((lost << 8) as i32) >> 8,
        extended_highest_seq: be32(&b[8..]),
        jitter: be32(&b[12..]),
        last_sr: be32(&b[16..]),
        delay_since_last_sr: be32(&b[20..]),
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn put32(buf: &mut [u8], at: &mut usize, v: u32) {
    buf[*at..*at + 4].copy_from_slice(&v.to_be_bytes());
    *at += 4;
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: ReportBlock = ReportBlock {
        ssrc: 0xAABB_CCDD,
        fraction_lost: 25,
        cumulative_lost: -3,
        extended_highest_seq: 0x0001_0005,
        jitter: 77,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 65536,
    };

    #[test]
    fn receiver_report_parses_back_with_its_block() {
        let mut buf = [0u8; 200];
        let n = write_report(&mut buf, 42, None, Some(BLOCK), b"kz-0000002a");
        assert_eq!(n % 4, 0);
        let s = parse_compound(&buf[..n], BLOCK.ssrc).unwrap();
        assert_eq!(s.sender_ssrc, 42);
        assert_eq!(s.sender_info, None);
        assert_eq!(s.report_on_us, Some(BLOCK));
    }

    #[test]
    fn sender_report_parses_back_with_sender_info() {
        let info = SenderInfo {
            ntp: 0xE000_0000_8000_0000,
            rtp_timestamp: 9,
            packet_count: 3,
            octet_count: 480,
        };
        let mut buf = [0u8; 200];
        let n = write_report(&mut buf, 42, Some(info), None, b"x");
        let s = parse_compound(&buf[..n], 1).unwrap();
        assert_eq!(s.sender_info, Some(info));
        assert_eq!(s.report_on_us, None);
    }

    #[test]
    fn malformed_compound_packets_are_rejected() {
        let mut buf = [0u8; 200];
        let n = write_report(&mut buf, 42, None, Some(BLOCK), b"kz");
        for cut in 0..n {
            if cut != 32 {
                // 32 is the end of the RR: a valid compound packet on its own.
                assert!(parse_compound(&buf[..cut], 1).is_err(), "cut at {cut}");
            }
        }
        let mut wrong_version = buf;
        wrong_version[0] = 0x40 | 1;
        assert!(parse_compound(&wrong_version[..n], 1).is_err());
        let mut sdes_first = [0u8; 200];
        sdes_first[..n - 32].copy_from_slice(&buf[32..n]);
        assert!(parse_compound(&sdes_first[..n - 32], 1).is_err());
        let mut count_beyond_length = buf;
        count_beyond_length[0] = 0x80 | 2;
        assert!(parse_compound(&count_beyond_length[..n], 1).is_err());
    }
}
