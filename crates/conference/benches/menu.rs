//! 200 callers on the shared number enter a 4-digit PIN and `#` at once, through their own
//! menus and one shared throttle. Measured: from each caller's last key (`#`) to `Join`,
//! including the PIN lookup and `Throttle::settle`. The per-caller time is printed.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use konferenz_conference::*;

const CALLERS: usize = 200;
const ROOMS: usize = 20;

struct Lobby {
    menus: Vec<Menu>,
    callers: Vec<CallerKey>,
    throttle: Throttle,
}

fn pin_of(room: usize) -> Pin {
    Pin::parse(&format!("{:04}", 1000 + room * 37)).unwrap()
}

/// Every caller has heard the prompt and typed the 4 digits; only `#` is missing.
fn lobby(now: Instant) -> Lobby {
    let mut menus = Vec::with_capacity(CALLERS);
    let mut callers = Vec::with_capacity(CALLERS);
    for i in 0..CALLERS {
        let mut menu = Menu::new(Entry::Shared, MenuConfig::default());
        menu.start(now);
        while let Some(Output::Play(_)) = menu.poll_output() {
            menu.prompt_finished(now);
        }
        for key in pin_of(i % ROOMS).reveal().chars() {
            menu.digit(now, key);
        }
        while menu.poll_output().is_some() {}
        menus.push(menu);
        callers.push(CallerKey::new(
            IpAddr::from([10, 0, (i >> 8) as u8, i as u8]),
            "anon",
        ));
    }
    Lobby {
        menus,
        callers,
        throttle: Throttle::new(ThrottleConfig::default()),
    }
}

/// All callers press `#`; the driver looks each PIN up and answers. Returns how many joined.
fn press_hash(
    lobby: &mut Lobby,
    directory: &HashMap<Pin, RoomNumber>,
    entry: &RoomNumber,
    now: Instant,
) -> usize {
    let mut joined = 0;
    for (menu, caller) in lobby.menus.iter_mut().zip(&lobby.callers) {
        menu.digit(now, '#');
        while let Some(output) = menu.poll_output() {
            match output {
                Output::CheckPin(pin) => {
                    let verdict = lobby
                        .throttle
                        .settle(now, caller, entry, directory.get(&pin));
                    menu.pin_checked(now, verdict);
                }
                Output::Join { room, .. } => {
                    black_box(room);
                    joined += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    joined
}

fn bench(c: &mut Criterion) {
    let directory: HashMap<Pin, RoomNumber> = (0..ROOMS)
        .map(|r| {
            (
                pin_of(r),
                RoomNumber::parse(&format!("{}", 800 + r)).unwrap(),
            )
        })
        .collect();
    let entry = RoomNumber::parse("0301234567").unwrap();
    let now = Instant::now();

    let mut group = c.benchmark_group("menu");
    group.throughput(Throughput::Elements(CALLERS as u64));
    let mut total = Duration::ZERO;
    let mut rounds = 0u32;
    group.bench_function("200_callers_hash_to_join", |b| {
        b.iter_batched(
            || lobby(now),
            |mut lobby| {
                let started = Instant::now();
                let joined = press_hash(&mut lobby, &directory, &entry, now);
                total += started.elapsed();
                rounds += 1;
                assert_eq!(joined, CALLERS, "all admitted");
                lobby
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
    if rounds > 0 {
        let per_round = total / rounds;
        println!(
            "menu: {CALLERS} callers, last key to Join: {:?} for all, {:.2} µs per caller",
            per_round,
            per_round.as_secs_f64() * 1e6 / CALLERS as f64
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
