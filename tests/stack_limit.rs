//! On kernels without lightweight guard regions goro falls back to
//! mprotect guards under a VMA budget; past it spawning fails cleanly
//! while the rest of the process keeps working.

mod common;

use common::wait_group;

#[test]
fn vma_budget_exhaustion_returns_stack_limit_and_the_process_stays_healthy() {
    let rt = goro::Runtime::builder()
        .procs(2)
        .force_mprotect_guards(Some(100))
        .build()
        .unwrap();
    rt.run(|| {
        let release = wait_group(1);
        let mut handles = Vec::new();
        let err = loop {
            let r = release.clone();
            match goro::try_go(move || r.wait()) {
                Ok(h) => handles.push(h),
                Err(e) => break e,
            }
            assert!(handles.len() <= 100, "budget not enforced");
        };
        assert!(matches!(err, goro::SpawnError::StackLimit(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("vm.max_map_count"), "{msg}");
        assert!(msg.contains("6.13"), "{msg}");
        // Threads and large allocations still work.
        let t = std::thread::spawn(|| 7);
        assert_eq!(t.join().unwrap(), 7);
        let big = vec![1u8; 1 << 20];
        assert_eq!(big.len(), 1 << 20);
        // go! panics with the same message.
        let panicked = std::panic::catch_unwind(|| goro::go!(|| ())).unwrap_err();
        let text = panicked.downcast_ref::<String>().unwrap();
        assert!(text.contains("vm.max_map_count"), "{text}");
        release.done();
        handles.into_iter().for_each(|h| h.join().unwrap());
        // Budget is available again once goroutines finish.
        assert!(goro::try_go(|| ()).unwrap().join().is_ok());
    });
}
