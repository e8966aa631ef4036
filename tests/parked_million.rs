//! A million goroutines parked at once: every stack guarded, few mappings,
//! little memory per goroutine.

mod common;

use common::{status_field, vma_count, wait_group};

#[test]
fn one_million_parked_goroutines_are_cheap() {
    const N: usize = 1_000_000;
    let rt = goro::Runtime::builder()
        .procs(2)
        .stack_size(256 << 10)
        .build()
        .unwrap();
    let (rss_per_g, vmas) = rt.run(|| {
        let parked = wait_group(N);
        let release = wait_group(1);
        let rss_before = status_field("VmRSS") + status_field("VmPTE");
        let handles: Vec<_> = (0..N)
            .map(|_| {
                let parked = parked.clone();
                let release = release.clone();
                goro::go!(move || {
                    parked.done();
                    release.wait();
                })
            })
            .collect();
        parked.wait();
        let rss_after = status_field("VmRSS") + status_field("VmPTE");
        let vmas = vma_count();
        release.done();
        for h in handles {
            h.join().unwrap();
        }
        ((rss_after - rss_before) as f64 / N as f64, vmas)
    });
    eprintln!("RSS+PTE per parked goroutine: {rss_per_g:.2} KiB, VMAs: {vmas}");
    assert!(
        rss_per_g <= 6.0,
        "RSS per parked goroutine {rss_per_g:.2} KiB > 6 KiB"
    );
    assert!(vmas < 1000, "{vmas} VMAs");
}
