//! `goro::compat::tokio::use_handle`: the bridge uses the given Tokio
//! runtime (its own test binary: the choice is per process).

#[test]
fn bridge_uses_the_given_tokio_runtime_and_refuses_a_second() {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("users-tokio")
        .enable_all()
        .build()
        .unwrap();
    goro::compat::tokio::use_handle(tokio_rt.handle().clone());
    let name = goro::run(|| {
        goro::compat::tokio::block_on(async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
                .await
                .unwrap()
        })
    });
    assert_eq!(name.as_deref(), Some("users-tokio"));
    let again =
        std::panic::catch_unwind(|| goro::compat::tokio::use_handle(tokio_rt.handle().clone()));
    let msg = again.unwrap_err();
    let msg = msg.downcast_ref::<&str>().unwrap();
    assert!(msg.contains("chosen already"), "{msg}");
}
