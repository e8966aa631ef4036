//! The seed twins (`examples/seeds/*.rs`, one per Go program in the seed
//! documents) print what their Go programs print, at 1 and 2 Ps.
//!
//! Where Go fixes the output, the check is exact (the expected lines are
//! what the Go programs printed, checked with `examples/seeds/run_go.py`).
//! Where the order of goroutines' lines is up to the scheduler, the check
//! is on the multiset of lines and on the orders the program does guarantee
//! (a goroutine's own lines, a channel hand-over before what follows it),
//! never on an order Go leaves open.

#[macro_use]
#[path = "../examples/seeds/harness.rs"]
mod harness;
#[path = "../examples/seeds/chapter8.rs"]
mod chapter8;
#[path = "../examples/seeds/deep_dive.rs"]
mod deep_dive;
#[path = "../examples/seeds/guide.rs"]
mod guide;
#[path = "../examples/seeds/patterns.rs"]
mod patterns;
#[path = "../examples/seeds/python_compare.rs"]
mod python_compare;

use harness::Twin;
use std::ops::RangeInclusive;

/// Runs every twin at 1 and 2 Ps, each in a runtime of its own, and has
/// `check` judge what it printed; `check` must know every twin.
fn check_all(twins: &[Twin], check: fn(&str, &[String])) {
    for procs in [1, 2] {
        for twin in twins {
            let rt = goro::Runtime::builder().procs(procs).build().unwrap();
            let out = rt.run(twin.program(false));
            // Shown with the failure: which twin, and everything it printed.
            eprintln!("twin {} at {procs} Ps printed {out:#?}", twin.name);
            check(twin.name, &out);
        }
    }
}

fn lines(expected: &[&str]) -> Vec<String> {
    expected.iter().map(|l| l.to_string()).collect()
}

fn sorted(out: &[String]) -> Vec<String> {
    let mut out = out.to_vec();
    out.sort();
    out
}

/// `goroutines` goroutines each printed "Goroutine: n Count: 0..5" in order
/// (their lines interleaved any way), then main printed "Program finished.".
fn check_counting(out: &[String], goroutines: i32) {
    assert_eq!(out.len(), 5 * goroutines as usize + 1);
    assert_eq!(out.last().unwrap(), "Program finished.");
    for n in 1..=goroutines {
        let prefix = format!("Goroutine: {n} ");
        let own: Vec<&String> = out.iter().filter(|l| l.starts_with(&prefix)).collect();
        let expected: Vec<String> = (0..5).map(|i| format!("{prefix}Count: {i}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>());
    }
}

/// A worker pool's lines: each job processed by one of `workers`, once, and
/// its result (twice the job) printed after that.
fn check_pool(
    out: &[String],
    jobs: RangeInclusive<i32>,
    workers: RangeInclusive<i32>,
    processing: fn(i32, i32) -> String,
    result: fn(i32) -> String,
) {
    assert_eq!(out.len(), 2 * jobs.clone().count());
    for j in jobs {
        let processed = out
            .iter()
            .position(|l| workers.clone().any(|w| *l == processing(w, j)))
            .unwrap_or_else(|| panic!("job {j} not processed"));
        let reported = out
            .iter()
            .position(|l| *l == result(2 * j))
            .unwrap_or_else(|| panic!("job {j} has no result"));
        assert!(processed < reported, "job {j}: result before processing");
    }
}

/// Two goroutines each printed `"{label}{i}{sep}{count}"` for `i` in
/// `0..1000`, in order (their lines interleaved any way), then main printed
/// `"Final counter: {n}"`. Returns the printed counts and `n`.
fn check_two_loops(out: &[String], label: &str, sep: &str) -> (Vec<i32>, i32) {
    assert_eq!(out.len(), 2001);
    let mut seen = vec![0; 1000]; // how many lines so far had each `i`
    let mut counts = Vec::new();
    for line in &out[..2000] {
        let (i, count) = line
            .strip_prefix(label)
            .and_then(|rest| rest.split_once(sep))
            .unwrap_or_else(|| panic!("unexpected line {line:?}"));
        let i: usize = i.parse().unwrap();
        // Each goroutine counts up from 0, so `i` comes once more only
        // after `i - 1` has come as often.
        assert!(
            seen[i] < 2 && (i == 0 || seen[i - 1] > seen[i]),
            "{line:?} out of order"
        );
        seen[i] += 1;
        counts.push(count.parse().unwrap());
    }
    let last = out[2000].strip_prefix("Final counter: ").unwrap();
    (counts, last.parse().unwrap())
}

#[test]
fn python_compare() {
    check_all(python_compare::TWINS, |name, out| match name {
        "threading_thread" => assert_eq!(out, lines(&["Hello from goroutine-1"])),
        "queue_queue" => assert_eq!(out, lines(&["Got: 0", "Got: 1", "Got: 2"])),
        "threading_lock" => assert_eq!(out, lines(&["1000"])),
        "asyncio_gather" => {
            assert_eq!(sorted(out), lines(&["data from url1", "data from url2"]))
        }
        "thread_pool_executor" => assert_eq!(out, lines(&["[2 4 6 8]"])),
        "select_first_ready" => assert_eq!(out, lines(&["Received from ch1: one"])),
        "buffered_vs_unbuffered" => assert_eq!(out, lines(&["1"])),
        "avoid_goroutine_leaks" => assert_eq!(out, lines(&["Cancelled"])),
        _ => panic!("no check for twin {name}"),
    });
}

#[test]
fn chapter8() {
    check_all(chapter8::TWINS, |name, out| match name {
        "launching_goroutines" => check_counting(out, 2),
        "concurrent_execution" => check_counting(out, 3),
        "channel_communication" => {
            assert_eq!(out, lines(&["Message received: Hello from goroutine"]))
        }
        "unbuffered_channel" => {
            // Both sides print after each hand-over, in either order, and
            // main may return before the sender's last line.
            assert_eq!(
                sorted(&out[..2]),
                lines(&["First message sent", "Message received: First message"])
            );
            let rest: Vec<&str> = out[2..].iter().map(String::as_str).collect();
            let (received, sent) = ("Message received: Second message", "Second message sent");
            let endings = [vec![received], vec![received, sent], vec![sent, received]];
            assert!(endings.contains(&rest), "{rest:?}");
        }
        "buffered_channel" => assert_eq!(
            out,
            lines(&[
                "First message sent",
                "Second message sent",
                "Message received: First message",
                "Message received: Second message",
            ])
        ),
        "channel_directionality" => assert_eq!(out, lines(&["received:  Hello, world!"])),
        "worker_pool" => check_pool(
            out,
            0..=9,
            0..=2,
            |w, j| format!("worker {w} processing job {j}"),
            |r| format!("received:  {r}"),
        ),
        "race_condition" => {
            // Lost updates may leave any count from 2 to 2000, each line
            // showing some count reached so far.
            let (counts, last) = check_two_loops(out, "goroutine: ", " counter: ");
            assert!((2..=2000).contains(&last), "final count {last}");
            assert!(counts.iter().all(|c| (1..=2000).contains(c)));
        }
        "mutex_counter" => {
            // Every line is printed under the lock: the counts in order.
            let (counts, last) = check_two_loops(out, "goroutine:  ", " counter:  ");
            assert_eq!(counts, (1..=2000).collect::<Vec<_>>());
            assert_eq!(last, 2000);
        }
        "wait_group" => {
            // Every worker starts, sleeps a second and is done, in any
            // order among them; main prints once all are done.
            let starts = [
                "Worker: 1 starting",
                "Worker: 2 starting",
                "Worker: 3 starting",
            ];
            let dones = ["Worker: 1 done", "Worker: 2 done", "Worker: 3 done"];
            assert_eq!(sorted(&out[..3]), lines(&starts));
            assert_eq!(sorted(&out[3..6]), lines(&dones));
            assert_eq!(out[6..], lines(&["All workers done"]));
        }
        _ => panic!("no check for twin {name}"),
    });
}

#[test]
fn deep_dive() {
    check_all(deep_dive::TWINS, |name, out| match name {
        "goroutines" => assert_eq!(out, lines(&["myFunction runs in its own goroutine"])),
        "channels" => assert_eq!(out, lines(&["100"])),
        _ => panic!("no check for twin {name}"),
    });
}

#[test]
fn patterns() {
    check_all(patterns::TWINS, |name, out| match name {
        "goroutines" => assert_eq!(out, lines(&["Hello from goroutine!", "Main finished."])),
        "channels" => assert_eq!(out, lines(&["ping"])),
        "buffered_channels" => assert_eq!(out, lines(&["1", "2"])),
        "closing_channels" => assert_eq!(out, lines(&["0", "1", "2"])),
        "select_statement" => assert_eq!(out, lines(&["Received one"])),
        "fan_out_fan_in" => check_pool(
            out,
            1..=5,
            1..=3,
            |w, j| format!("Worker {w} processing job {j}"),
            |r| format!("Result: {r}"),
        ),
        "worker_pool" => {
            // Each job is started and finished by one worker, one job at a
            // time per worker, and its result comes after it finished.
            assert_eq!(out.len(), 15);
            for j in 1..=5 {
                let started = |l: &String| l.ends_with(&format!(" started job {j}"));
                let start = out.iter().position(started).unwrap();
                let worker = out[start].split(" started").next().unwrap();
                let finish = format!("{worker} finished job {j}");
                assert_eq!(
                    out[start + 1..].iter().find(|l| l.starts_with(worker)),
                    Some(&finish)
                );
                let finished = out.iter().position(|l| *l == finish).unwrap();
                let result = out.iter().position(|l| *l == format!("Result: {}", 2 * j));
                assert!(result.is_some_and(|r| r > finished), "job {j}'s result");
            }
        }
        "context_aware_pool" => {
            // Jobs 1 to 3 take 3 s; jobs 4 and 5 start then, on two of the
            // workers, and the 5 s timeout cancels them.
            assert_eq!(
                sorted(&out[..3]),
                lines(&["Result: 2", "Result: 4", "Result: 6"])
            );
            assert_eq!(out.len(), 5);
            let mut cancelled: Vec<(&str, &str)> = out[3..]
                .iter()
                .map(|l| {
                    let (worker, job) = l.split_once(" cancelled ").unwrap();
                    (job, worker)
                })
                .collect();
            cancelled.sort();
            let err = ": context deadline exceeded";
            assert_eq!(cancelled[0].0, format!("job 4{err}"));
            assert_eq!(cancelled[1].0, format!("job 5{err}"));
            assert_ne!(cancelled[0].1, cancelled[1].1);
            assert!(cancelled
                .iter()
                .all(|(_, w)| ["Worker 1", "Worker 2", "Worker 3"].contains(w)));
        }
        "timeout_with_select" => assert_eq!(out, lines(&["timeout"])),
        "wait_group" => {
            let done = ["Worker 0 done", "Worker 1 done", "Worker 2 done"];
            assert_eq!(sorted(&out[..3]), lines(&done));
            assert_eq!(out[3..], lines(&["All workers finished."]));
        }
        _ => panic!("no check for twin {name}"),
    });
}

#[test]
fn guide() {
    check_all(guide::TWINS, |name, out| match name {
        "basic_goroutine" => assert_eq!(out, lines(&["Hello from goroutine!"])),
        "passing_parameters" => assert_eq!(
            sorted(out),
            lines(&["0", "1", "2", "3", "4", "Message 1: Hello"])
        ),
        "proper_cleanup" => {
            // Main returns as the goroutine wakes from its fifth second of
            // work: it sees the cancel before the exit only if it wins.
            assert!(
                out.is_empty() || *out == lines(&["Cleanup and exit"]),
                "{out:?}"
            )
        }
        "channel_types" => assert_eq!(out, lines(&["0 5"])),
        "buffered_vs_unbuffered" => assert_eq!(out, lines(&["0 10"])),
        "channel_example" => assert_eq!(out, lines(&["42"])),
        "closing_channels" => assert_eq!(out, lines(&["1", "2", "3", "Channel closed"])),
        "select_statement" => assert_eq!(
            out,
            lines(&["Received from ch1: hello", "No message available"])
        ),
        "non_blocking" => assert_eq!(out, lines(&["No message, moving on"])),
        "wait_group" => assert_eq!(sorted(out), lines(&["Worker 0", "Worker 1", "Worker 2"])),
        "rw_mutex" => assert_eq!(out, lines(&["100 0 10000"])),
        "race_counter" => {
            // Lost updates may leave any count from 2 to 1,000,000.
            assert_eq!(out.len(), 1);
            let count = out[0].strip_prefix("Final Counter (potential race): ");
            let count: i64 = count.unwrap().parse().unwrap();
            assert!((2..=1_000_000).contains(&count), "{count}");
        }
        "atomic_add" => assert_eq!(out, lines(&["Final Counter (with atomic): 1000000"])),
        "atomic_counter" => assert_eq!(out, lines(&["1000"])),
        "creating_contexts" => assert_eq!(
            out,
            lines(&[
                "Background: <nil>",
                "WithCancel: <nil>",
                "WithCancel after cancel: context canceled",
                "WithTimeout: <nil> true",
                "WithDeadline: <nil> true",
                "WithValue: value",
            ])
        ),
        "context_in_functions" => assert_eq!(out, lines(&["doWork: context canceled"])),
        "worker_pool" | "fan_out_fan_in" => assert_eq!(out, lines(&["[1 4 9 16 25]"])),
        "rate_limiter" => {
            // Go prints ticks 0, 0, 1, 2: two requests on the initial tokens,
            // then one per refill. No request can go before its token; a
            // starved machine may make one a tick late.
            assert_eq!(out.len(), 4);
            for ((i, line), tick) in (1..).zip(out).zip([0, 0, 1, 2]) {
                let late = format!("request {i} in tick {}", tick + 1);
                assert!(*line == format!("request {i} in tick {tick}") || *line == late);
            }
        }
        "context_cancellation" => {
            assert_eq!(out, lines(&["longTask: context deadline exceeded"]))
        }
        "sender_closes" => assert_eq!(
            out,
            lines(&["bad: closed by the receiver: true", "good: data"])
        ),
        "error_channel" => assert_eq!(out, lines(&["error: work failed"])),
        "errgroup_errors" => assert_eq!(out, lines(&["work failed"])),
        "goroutine_leak" => assert_eq!(out, lines(&["goroutines: 2"])),
        "goroutine_leak_context" => {
            assert_eq!(out, lines(&["goroutines: 2", "goroutines after cancel: 1"]))
        }
        "race_condition_fixed" => assert_eq!(out, lines(&["1000"])),
        "mutex_copying" => assert_eq!(out, lines(&["debug=false"; 3])),
        _ => panic!("no check for twin {name}"),
    });
}
