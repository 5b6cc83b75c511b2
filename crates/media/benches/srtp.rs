//! What SRTP adds per packet on an encrypted call: protecting one 20 ms G.711 packet we
//! send, and checking and decrypting one that arrives (rtc-srtp, AES-CM-128 + HMAC-SHA1-80).
//! Run: `cargo bench -p konferenz-media --bench srtp`.

use criterion::{Criterion, criterion_group, criterion_main};
use konferenz_media::srtp::{Keys, Srtp, Suite};
use std::hint::black_box;

fn packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend(std::iter::repeat_n(0x55u8, 160));
    p
}

fn srtp(c: &mut Criterion) {
    let suite = Suite::AesCm128HmacSha1_80;
    let (a, b) = ([1u8; 30], [2u8; 30]);
    let mut sender = Srtp::new(Keys {
        suite,
        local: a,
        remote: b,
    })
    .unwrap();
    let mut receiver = Srtp::new(Keys {
        suite,
        local: b,
        remote: a,
    })
    .unwrap();
    // One packet buffer, its sequence number advanced per iteration (the ROC follows).
    let mut p = packet(0);
    let mut seq = 0u16;
    c.bench_function("srtp_protect_g711_packet", |bench| {
        bench.iter(|| {
            seq = seq.wrapping_add(1);
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            sender.protect(black_box(&p), |d| {
                black_box(d);
            })
        })
    });
    // Protect and then check and decrypt on the other side (replay protection on): the
    // receive cost is this minus the one above.
    let mut wire = Vec::with_capacity(256);
    c.bench_function("srtp_protect_and_unprotect_g711_packet", |bench| {
        bench.iter(|| {
            seq = seq.wrapping_add(1);
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            wire.clear();
            sender.protect(&p, |d| wire.extend_from_slice(d)).unwrap();
            receiver
                .unprotect(black_box(&wire), |plain| {
                    black_box(plain);
                })
                .unwrap();
        })
    });
}

criterion_group!(benches, srtp);
criterion_main!(benches);
