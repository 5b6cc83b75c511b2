//! One encoding of the room's common mix per codec: every joined participant who is not
//! talking hears the same sum (everyone's talk), so it is encoded once per codec and tick
//! and sent under each listener's own RTP header. Talkers hear the mix without themselves
//! and get their own encoding. Encoders are made when a codec first joins the room (never
//! in the tick).

use konferenz_media::{Codec, Encoder, Frame, MAX_PAYLOAD};

struct Shared {
    codec: Codec,
    encoder: Encoder,
    payload: Box<[u8; MAX_PAYLOAD]>,
    /// Bytes of `payload` for the tick `encoded_at`.
    len: usize,
    encoded_at: Option<u64>,
}

/// The room's shared encodings, one per codec in use.
#[derive(Default)]
pub struct SharedMix {
    codecs: Vec<Shared>,
}

impl SharedMix {
    /// Makes sure `codec` has an encoder (called on join and renegotiation).
    pub fn prepare(&mut self, codec: Codec) {
        if !self.codecs.iter().any(|s| s.codec == codec) {
            self.codecs.push(Shared {
                codec,
                encoder: Encoder::new(codec),
                payload: Box::new([0; MAX_PAYLOAD]),
                len: 0,
                encoded_at: None,
            });
        }
    }

    /// The common mix of tick `tick` in `codec`, encoded on first use within the tick;
    /// `None` if no encoder was prepared for the codec (the caller encodes on its own).
    pub fn payload(&mut self, tick: u64, codec: Codec, mix: &Frame) -> Option<&[u8]> {
        let s = self.codecs.iter_mut().find(|s| s.codec == codec)?;
        if s.encoded_at != Some(tick) {
            s.len = s.encoder.encode(mix, &mut s.payload[..]);
            s.encoded_at = Some(tick);
        }
        Some(&s.payload[..s.len])
    }
}
