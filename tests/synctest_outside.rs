//! Go 1.25's rule for what a synctest bubble makes: its channels and timers
//! may be used only by the bubble's goroutines. Every operation from
//! outside (a plain thread, a goroutine outside any bubble, another bubble)
//! panics with Go's message, at the line of the call; the queries and
//! drops stay allowed.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::time::Duration;

use goro::chan::{Receiver, Sender};
use goro::synctest;
use goro::Select;

thread_local! {
    /// Where the last panic on this thread was raised (file, line).
    static PANICKED_AT: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic; returns its message and where it panicked
/// (recorded by a panic hook on the panicking thread, which is this one:
/// a goroutine never changes thread).
fn panic_of(f: impl FnOnce()) -> (String, (String, u32)) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(l) = info.location() {
                let at = (l.file().to_string(), l.line());
                PANICKED_AT.with(|p| *p.borrow_mut() = Some(at));
            }
            previous(info);
        }));
    });
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the operation did not panic");
    let msg = match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast::<&str>().map(|s| s.to_string()).unwrap(),
    };
    let at = PANICKED_AT.with(|p| p.borrow_mut().take()).unwrap();
    (msg, at)
}

/// A channel of each kind made in a bubble that has ended (its handles
/// are returned out of it).
fn bubble_chans() -> [(Sender<u8>, Receiver<u8>); 2] {
    synctest::run(|| [goro::chan::<u8>(0), goro::chan::<u8>(4)])
}

/// One operation from outside: (Go's words, the line of the call, the call).
type Case<'a> = (&'static str, u32, Box<dyn FnOnce() + 'a>);

/// A case whose call is written on the line of the `case!`.
macro_rules! case {
    ($words:expr, $call:expr) => {
        (
            $words,
            line!(),
            Box::new(move || discard($call)) as Box<dyn FnOnce()>,
        )
    };
}

/// Drops what an operation returned (a result, a future never polled).
fn discard<T>(_: T) {}

/// Every checked channel operation, on channels `tx`/`rx` of a bubble.
fn channel_cases(tx: Sender<u8>, rx: Receiver<u8>) -> Vec<Case<'static>> {
    let d = Duration::from_secs(1);
    let (t, r) = (tx.clone(), rx.clone());
    let (t2, r2, t3, r3) = (tx.clone(), rx.clone(), tx.clone(), rx.clone());
    let (t4, r4, t5, r5) = (tx.clone(), rx.clone(), tx.clone(), rx.clone());
    let (t6, r6, t7, r7) = (tx.clone(), rx.clone(), tx.clone(), rx.clone());
    #[rustfmt::skip]
    let cases = vec![
        case!("send on", t.send(1)),
        case!("send on", t2.try_send(1)),
        case!("send on", t3.send_timeout(1, d)),
        case!("send on", t4.send_async(1)),
        case!("receive on", r.recv()),
        case!("receive on", r2.try_recv()),
        case!("receive on", r3.recv_timeout(d)),
        case!("receive on", r4.recv_async()),
        case!("receive on", r5.iter().next()),
        case!("close of", t5.close()),
        case!("close of", r6.close()),
        case!("select on", goro::select! { recv(r7) -> v => v.ok(), default => None }),
        case!("select on", goro::select! { send(t6, 1) -> v => v.ok(), default => None }),
        case!("select on", Select::new().recv(&rx)),
        case!("select on", Select::new().send(&tx)),
        case!("send on", t7.send_deadline(1, goro::time::now()).ok()),
    ];
    cases
}

/// Checks each case: Go's message, and the location of the user's call.
fn check_all_panic(cases: Vec<Case<'static>>) {
    for (words, line, call) in cases {
        let (msg, at) = panic_of(call);
        let want = format!("{words} synctest channel from outside bubble");
        assert!(msg.starts_with(&want), "line {line}: {msg}");
        assert_eq!(at, (file!().to_string(), line), "{msg}");
    }
}

#[test]
fn every_channel_operation_from_a_plain_thread_panics_at_its_line() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (tx, rx) in bubble_chans() {
            check_all_panic(channel_cases(tx, rx));
        }
        done_tx.send(()).unwrap();
    });
    // A hang guard: without the check, a receive would block forever.
    let finished = done_rx.recv_timeout(Duration::from_secs(120));
    assert!(
        finished.is_ok(),
        "an operation blocked, or did not panic (see its message above)"
    );
}

#[test]
fn every_channel_operation_from_a_goroutine_outside_panics() {
    goro::run(|| {
        for (tx, rx) in bubble_chans() {
            check_all_panic(channel_cases(tx, rx));
        }
    });
}

#[test]
fn another_bubble_may_not_use_a_bubbles_channel() {
    let [(tx, rx), _] = bubble_chans();
    synctest::run(move || check_all_panic(channel_cases(tx, rx)));
}

#[test]
fn queries_clones_and_drops_stay_allowed() {
    for (tx, rx) in bubble_chans() {
        let rx2 = rx.clone();
        assert_eq!(rx.len(), 0);
        assert!(tx.is_empty());
        assert!(!rx.is_closed());
        let _ = (tx.cap(), rx.is_full());
        drop(tx);
        // The last sender's drop closed it, as always.
        assert!(rx2.is_closed());
    }
}

#[test]
fn the_bubble_goes_on_using_its_channel_while_an_outsider_panics() {
    goro::run(|| {
        // Both made outside the bubble: anyone may use them.
        let (out_tx, out_rx) = goro::chan::<Sender<u8>>(1);
        let (msg_tx, msg_rx) = goro::chan::<String>(1);
        goro::go!(move || {
            let tx = out_rx.recv().unwrap();
            let (msg, _) = panic_of(|| {
                let _ = tx.send(1);
            });
            drop(tx);
            msg_tx.send(msg).unwrap();
        });
        let (sum, msg) = synctest::run(move || {
            let (tx, rx) = goro::chan::<u8>(0);
            out_tx.send(tx.clone()).unwrap();
            // Not durable (an outside channel): the bubble waits for it.
            let msg = msg_rx.recv().unwrap();
            goro::go!(move || {
                for i in 1..=3 {
                    tx.send(i).unwrap();
                }
            });
            (rx.iter().map(u32::from).sum::<u32>(), msg)
        });
        assert_eq!(sum, 6);
        assert!(
            msg.starts_with("send on synctest channel from outside bubble"),
            "{msg}"
        );
    });
}

#[test]
fn a_bubbles_timers_may_not_be_stopped_or_reset_from_outside() {
    let (timer, ticker) = synctest::run(|| {
        (
            goro::time::Timer::new(Duration::from_secs(1)),
            goro::time::Ticker::new(Duration::from_secs(1)),
        )
    });
    #[rustfmt::skip]
    let cases: Vec<Case<'_>> = vec![
        ("stop of synctest timer", line!(), Box::new(|| discard(timer.stop()))),
        ("reset of synctest timer", line!(), Box::new(|| discard(timer.reset(Duration::ZERO)))),
        ("stop of synctest timer", line!(), Box::new(|| ticker.stop())),
        ("reset of synctest timer", line!(), Box::new(|| ticker.reset(Duration::from_secs(2)))),
        ("receive on synctest channel", line!(), Box::new(|| discard(timer.chan().try_recv()))),
    ];
    for (words, line, call) in cases {
        let (msg, at) = panic_of(call);
        assert!(
            msg.starts_with(&format!("{words} from outside bubble")),
            "line {line}: {msg}"
        );
        assert_eq!(at, (file!().to_string(), line), "{msg}");
    }
    // Dropping them is allowed (and stops them).
    drop((timer, ticker));
}
