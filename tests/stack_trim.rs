//! Stack memory comes back: a deep excursion is trimmed once the goroutine
//! parks, and huge pages never inflate a goroutine.

mod common;

use common::{status_field, wait_group};

fn deep(depth: usize) -> u64 {
    let mut frame = [0u8; 1024];
    std::hint::black_box(&mut frame);
    if depth == 0 {
        return frame[0] as u64;
    }
    deep(depth - 1) + frame[1] as u64
}

#[test]
fn a_deep_excursion_is_trimmed_back_after_parking() {
    const N: usize = 200;
    let rt = goro::Runtime::builder()
        .procs(1)
        .stack_size(1 << 20)
        .build()
        .unwrap();
    let (grown, trimmed) = rt.run(|| {
        let parked = wait_group(N);
        let release = wait_group(1);
        let base = status_field("VmRSS");
        let hs: Vec<_> = (0..N)
            .map(|_| {
                let (parked, release) = (parked.clone(), release.clone());
                goro::go!(move || {
                    // About 128 KiB of frames, then park at a shallow depth.
                    std::hint::black_box(deep(120));
                    parked.done();
                    release.wait();
                })
            })
            .collect();
        parked.wait();
        let grown = status_field("VmRSS").saturating_sub(base);
        // Let the M go idle long enough for sysmon's trim request.
        let mut trimmed = grown;
        for _ in 0..30 {
            goro::blocking(|| std::thread::sleep(std::time::Duration::from_millis(100)));
            trimmed = status_field("VmRSS").saturating_sub(base);
            if trimmed * 4 < grown {
                break;
            }
        }
        release.done();
        hs.into_iter().for_each(|h| h.join().unwrap());
        (grown, trimmed)
    });
    eprintln!("grown {grown} KiB, after trimming {trimmed} KiB");
    assert!(
        grown >= (N as u64 * 100),
        "the excursion did not commit memory: {grown} KiB"
    );
    assert!(
        trimmed * 4 < grown,
        "not trimmed: {grown} KiB -> {trimmed} KiB"
    );
}
