//! goro-kv (examples/kv) driven over loopback: every command family,
//! pipelining, inline commands, malformed and truncated frames, a client
//! leaving mid-pipeline, 1,000 concurrent connections, PUBLISH fan-out to
//! 100 subscribers, key expiry (lazy and swept), the connection limit,
//! shutdown through the context, and, where installed, `redis-cli` and
//! `redis-benchmark` themselves.

#[allow(dead_code)]
#[path = "../examples/kv/main.rs"]
mod kv;

#[path = "common/resp_client.rs"]
mod resp_client;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context::{self, CancelFunc};
use goro::net::TcpListener;
use goro::JoinHandle;

use kv::{Config, Server};
use resp_client::{bulk, bulks, encode, nil, ok, Client, Reply};

/// Hang guard for waits on the server's background work.
const PATIENCE: Duration = Duration::from_secs(30);

fn run(f: impl FnOnce() + 'static) {
    goro::Runtime::builder().procs(2).build().unwrap().run(f)
}

/// A server on an ephemeral port, in a goroutine, under its own context.
struct Running {
    addr: SocketAddr,
    server: Arc<Server>,
    cancel: CancelFunc,
    serving: JoinHandle<io::Result<()>>,
}

fn start(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (ctx, cancel) = context::with_cancel(&context::background());
    let server = Server::new(config);
    let shared = server.clone();
    let serving = goro::go!(move || kv::serve(listener, &ctx, shared));
    Running {
        addr,
        server,
        cancel,
        serving,
    }
}

fn start_default() -> Running {
    start(Config::default())
}

/// Polls `cond` until it holds (a hang guard, not a timing check).
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        goro::time::sleep(Duration::from_millis(5));
    }
}

fn int(n: i64) -> Reply {
    Reply::Int(n)
}

fn is_error(r: &Reply, prefix: &str) -> bool {
    matches!(r, Reply::Error(e) if e.starts_with(prefix))
}

#[test]
fn strings_counters_and_keys() {
    run(|| {
        let s = start_default();
        let mut c = Client::connect(s.addr);
        assert_eq!(c.call("PING"), Reply::Simple("PONG".into()));
        assert_eq!(c.call("ping hi"), bulk("hi"));
        assert_eq!(c.call("ECHO hello"), bulk("hello"));
        assert_eq!(c.call("GET k"), nil());
        assert_eq!(c.call("SET k v1"), ok());
        assert_eq!(c.call("GET k"), bulk("v1"));
        assert_eq!(c.call("SET k v2 NX"), nil());
        assert_eq!(c.call("SET k v2 XX"), ok());
        assert_eq!(c.call("SET other v XX"), nil());
        assert_eq!(c.call("SET other v NX"), ok());
        assert_eq!(c.call("GET k"), bulk("v2"));
        assert!(is_error(&c.call("SET k v NX XX"), "ERR syntax error"));
        assert!(is_error(&c.call("SET k v EX"), "ERR syntax error"));
        assert!(is_error(&c.call("SET k v EX 0"), "ERR invalid expire time"));
        assert!(is_error(
            &c.call("SET k v EX ten"),
            "ERR value is not an integer"
        ));
        assert_eq!(c.call("EXISTS k other missing k"), int(3));
        assert_eq!(c.call("DEL k missing"), int(1));
        assert_eq!(c.call("EXISTS k"), int(0));

        assert_eq!(c.call("INCR n"), int(1));
        assert_eq!(c.call("INCRBY n 41"), int(42));
        assert_eq!(c.call("DECR n"), int(41));
        assert_eq!(c.call("DECRBY n 50"), int(-9));
        assert_eq!(c.call("GET n"), bulk("-9"));
        assert_eq!(c.call(&format!("SET n {}", i64::MAX)), ok());
        assert!(is_error(
            &c.call("INCR n"),
            "ERR increment or decrement would overflow"
        ));
        assert!(is_error(
            &c.call("INCR other"),
            "ERR value is not an integer"
        ));
        assert!(is_error(
            &c.call("INCRBY n x"),
            "ERR value is not an integer"
        ));

        assert_eq!(c.call("MSET a 1 b 2 c 3"), ok());
        assert_eq!(
            c.call("MGET a b missing c"),
            Reply::Array(Some(vec![bulk("1"), bulk("2"), nil(), bulk("3")]))
        );
        assert!(is_error(
            &c.call("MSET a 1 b"),
            "ERR wrong number of arguments for 'mset'"
        ));

        assert_eq!(c.call("DBSIZE"), int(5));
        assert!(is_error(
            &c.call("GET"),
            "ERR wrong number of arguments for 'get'"
        ));
        assert!(is_error(
            &c.call("NOSUCH x"),
            "ERR unknown command 'NOSUCH'"
        ));
        assert_eq!(
            c.call("CONFIG GET save"),
            Reply::Array(Some(vec![bulk("save"), bulk("")]))
        );
        assert_eq!(
            c.call("CONFIG GET appendonly"),
            bulks(&["appendonly", "no"])
        );
        assert_eq!(c.call("FLUSHALL"), ok());
        assert_eq!(c.call("DBSIZE"), int(0));
        let Reply::Bulk(Some(info)) = c.call("INFO") else {
            panic!("INFO is a bulk string")
        };
        let info = String::from_utf8(info).unwrap();
        assert!(info.contains("connected_clients:1\r\n"), "{info}");
        assert!(info.contains(&format!("gomaxprocs:{}\r\n", 2)), "{info}");
        // The accept loop is parked in IO wait, the sweeper on a select.
        assert!(info.contains("goroutines_IO_wait:"), "{info}");
        assert_eq!(c.call("QUIT"), ok());
        assert!(c.at_eof());
    });
}

#[test]
fn lists() {
    run(|| {
        let s = start_default();
        let mut c = Client::connect(s.addr);
        assert_eq!(c.call("RPUSH l b c"), int(2));
        assert_eq!(c.call("LPUSH l a z"), int(4));
        assert_eq!(c.call("LRANGE l 0 -1"), bulks(&["z", "a", "b", "c"]));
        assert_eq!(c.call("LRANGE l 1 2"), bulks(&["a", "b"]));
        assert_eq!(c.call("LRANGE l -2 100"), bulks(&["b", "c"]));
        assert_eq!(c.call("LRANGE l 3 1"), bulks(&[]));
        assert_eq!(c.call("LPOP l"), bulk("z"));
        assert_eq!(c.call("RPOP l"), bulk("c"));
        assert_eq!(c.call("LPOP l 5"), bulks(&["a", "b"]));
        // The emptied list is gone.
        assert_eq!(c.call("EXISTS l"), int(0));
        assert_eq!(c.call("LPOP l"), nil());
        assert_eq!(c.call("SET s v"), ok());
        assert!(is_error(&c.call("LPUSH s x"), "WRONGTYPE"));
        assert_eq!(c.call("LPUSH l2 x"), int(1));
        assert!(is_error(&c.call("GET l2"), "WRONGTYPE"));
        assert!(is_error(&c.call("INCR l2"), "WRONGTYPE"));
        assert_eq!(
            c.call("MGET l2 s"),
            Reply::Array(Some(vec![nil(), bulk("v")]))
        );
    });
}

#[test]
fn pipelined_and_inline_requests_are_answered_in_order() {
    run(|| {
        let s = start_default();
        let mut c = Client::connect(s.addr);
        let mut batch = Vec::new();
        for i in 0..2000 {
            batch.extend(encode(&[b"INCR", b"ctr"]));
            if i % 100 == 0 {
                batch.extend(format!("ECHO e{i}\r\n").as_bytes());
            }
        }
        // Sent in odd-sized pieces that split frames anywhere.
        for piece in batch.chunks(777) {
            c.send_raw(piece);
        }
        for i in 0..2000 {
            assert_eq!(c.read().unwrap(), int(i + 1));
            if i % 100 == 0 {
                assert_eq!(c.read().unwrap(), bulk(&format!("e{i}")));
            }
        }
        // A blank inline line is skipped, as Redis does.
        c.send_raw(b"\r\nPING\n");
        assert_eq!(c.read().unwrap(), Reply::Simple("PONG".into()));
    });
}

#[test]
fn truncated_frame_waits_for_its_rest() {
    run(|| {
        let s = start_default();
        let mut c = Client::connect(s.addr);
        let frame = encode(&[b"SET", b"key", b"a value"]);
        for cut in [1, 5, frame.len() - 1] {
            c.send_raw(&frame[..cut]);
            goro::time::sleep(Duration::from_millis(5));
            c.send_raw(&frame[cut..]);
            assert_eq!(c.read().unwrap(), ok());
        }
    });
}

#[test]
fn malformed_frames_close_only_that_connection() {
    run(|| {
        let s = start_default();
        let mut bystander = Client::connect(s.addr);
        assert_eq!(bystander.call("SET k v"), ok());
        for bad in [
            &b"*2\r\n$3\r\nGET\r\n+k\r\n"[..],
            b"*x\r\n",
            b"*1\r\n$-3\r\n",
            b"*1\r\n$3\r\nGETX\r\n",
            b"*1\n",
        ] {
            let mut c = Client::connect(s.addr);
            c.send_raw(bad);
            let reply = c.read().unwrap();
            assert!(is_error(&reply, "ERR Protocol error"), "{bad:?}: {reply:?}");
            assert!(c.at_eof(), "{bad:?}: still open");
        }
        assert_eq!(bystander.call("GET k"), bulk("v"));
    });
}

#[test]
fn client_leaving_mid_pipeline_leaves_the_server_serving() {
    run(|| {
        let s = start_default();
        for _ in 0..20 {
            let mut c = Client::connect(s.addr);
            let mut batch = encode(&[b"INCR", b"n"]).repeat(5000);
            // Cut inside the last frame, then close without reading a reply.
            batch.truncate(batch.len() - 3);
            c.send_raw(&batch);
        }
        let mut c = Client::connect(s.addr);
        // Every connection but this one has gone: no goroutine stuck writing.
        eventually("the abandoned connections to finish", || {
            s.server.connected() == 1
        });
        assert!(matches!(c.call("GET n"), Reply::Bulk(Some(_))));
        assert_eq!(c.call("PING"), Reply::Simple("PONG".into()));
    });
}

#[test]
fn thousand_concurrent_connections() {
    run(|| {
        let s = start_default();
        let clients: Vec<_> = (0..1000)
            .map(|i| {
                let addr = s.addr;
                goro::go!(move || {
                    let mut c = Client::connect(addr);
                    assert_eq!(c.call(&format!("SET key{i} {i}")), ok());
                    c.call("INCR hits");
                    assert_eq!(c.call(&format!("GET key{i}")), bulk(&i.to_string()));
                    c
                })
            })
            .collect();
        // Keep all 1,000 open at once, then check the totals.
        let open: Vec<Client> = clients.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(s.server.connected(), 1000);
        let mut c = Client::connect(s.addr);
        assert_eq!(c.call("GET hits"), bulk("1000"));
        assert_eq!(c.call("DBSIZE"), int(1001));
        drop(open);
        eventually("the 1,000 to leave", || s.server.connected() == 1);
    });
}

#[test]
fn publish_fans_out_to_100_subscribers_without_loss() {
    const SUBSCRIBERS: usize = 100;
    const MESSAGES: usize = 500;
    run(|| {
        let s = start_default();
        let mut subscribers: Vec<Client> = (0..SUBSCRIBERS)
            .map(|_| {
                let mut c = Client::connect(s.addr);
                let reply = c.call("SUBSCRIBE news other");
                assert_eq!(
                    reply,
                    Reply::Array(Some(vec![bulk("subscribe"), bulk("news"), int(1)]))
                );
                assert_eq!(
                    c.read().unwrap(),
                    Reply::Array(Some(vec![bulk("subscribe"), bulk("other"), int(2)]))
                );
                c
            })
            .collect();
        let readers: Vec<_> = subscribers
            .drain(..)
            .map(|mut c| {
                goro::go!(move || {
                    for i in 0..MESSAGES {
                        assert_eq!(
                            c.read().unwrap(),
                            bulks(&["message", "news", &format!("m{i}")])
                        );
                    }
                    c
                })
            })
            .collect();
        let mut publisher = Client::connect(s.addr);
        for i in 0..MESSAGES {
            assert_eq!(
                publisher.call(&format!("PUBLISH news m{i}")),
                int(SUBSCRIBERS as i64)
            );
        }
        assert_eq!(publisher.call("PUBLISH nobody x"), int(0));
        let mut subscribers: Vec<Client> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        // Subscribed connections only take pub/sub commands.
        let c = &mut subscribers[0];
        assert!(is_error(&c.call("GET k"), "ERR Can't execute 'get'"));
        assert_eq!(c.call("PING"), bulks(&["pong", ""]));
        assert_eq!(
            c.call("UNSUBSCRIBE news"),
            Reply::Array(Some(vec![bulk("unsubscribe"), bulk("news"), int(1)]))
        );
        assert_eq!(
            publisher.call("PUBLISH news x"),
            int(SUBSCRIBERS as i64 - 1)
        );
        assert_eq!(
            c.call("UNSUBSCRIBE"),
            Reply::Array(Some(vec![bulk("unsubscribe"), bulk("other"), int(0)]))
        );
        // Out of pub/sub mode, ordinary commands work again.
        assert_eq!(c.call("SET k v"), ok());
        drop(subscribers);
        eventually("subscribers to leave the broker", || {
            publisher.call("PUBLISH other x") == int(0)
        });
    });
}

#[test]
fn keys_expire_lazily_on_access() {
    run(|| {
        // No sweep during the test: only reads can expire keys.
        let s = start(Config {
            sweep_every: Duration::from_secs(3600),
            ..Config::default()
        });
        let mut c = Client::connect(s.addr);
        assert_eq!(c.call("SET gone v PX 20"), ok());
        assert_eq!(c.call("SET kept v"), ok());
        assert_eq!(c.call("EXPIRE kept 1000"), int(1));
        assert_eq!(c.call("TTL kept"), int(1000));
        assert_eq!(c.call("TTL missing"), int(-2));
        assert_eq!(c.call("EXPIRE missing 10"), int(0));
        assert_eq!(c.call("SET plain v"), ok());
        assert_eq!(c.call("TTL plain"), int(-1));
        // KEEPTTL keeps the deadline, a plain SET drops it, INCR keeps it.
        assert_eq!(c.call("SET kept v2 KEEPTTL"), ok());
        assert_eq!(c.call("TTL kept"), int(1000));
        assert_eq!(c.call("SET ctr 1 EX 1000"), ok());
        assert_eq!(c.call("INCR ctr"), int(2));
        assert_eq!(c.call("TTL ctr"), int(1000));
        assert_eq!(c.call("SET ctr 5"), ok());
        assert_eq!(c.call("TTL ctr"), int(-1));
        // A deadline in the past deletes at once.
        assert_eq!(c.call("EXPIRE plain 0"), int(1));
        assert_eq!(c.call("EXISTS plain"), int(0));
        // Wait out `gone`'s 20 ms: still counted until something reads it.
        goro::time::sleep(Duration::from_millis(60));
        assert_eq!(c.call("DBSIZE"), int(3));
        assert_eq!(c.call("GET gone"), nil());
        assert_eq!(c.call("DBSIZE"), int(2));
        assert_eq!(c.call("TTL gone"), int(-2));
    });
}

#[test]
fn sweeper_removes_expired_keys_nobody_reads() {
    run(|| {
        let s = start(Config {
            sweep_every: Duration::from_millis(5),
            ..Config::default()
        });
        let mut c = Client::connect(s.addr);
        for i in 0..200 {
            c.send(&format!("SET t{i} v PX {}", 10 + i % 20));
        }
        c.send("SET stays v EX 1000");
        for _ in 0..201 {
            assert_eq!(c.read().unwrap(), ok());
        }
        // Only DBSIZE from here on: no read touches the keys.
        eventually("the sweeper to remove 200 keys", || {
            c.call("DBSIZE") == int(1)
        });
        assert_eq!(c.call("GET stays"), bulk("v"));
    });
}

#[test]
fn connection_limit_refuses_the_extra_client() {
    run(|| {
        let s = start(Config {
            max_clients: 2,
            ..Config::default()
        });
        let mut a = Client::connect(s.addr);
        let mut b = Client::connect(s.addr);
        assert_eq!(a.call("PING"), Reply::Simple("PONG".into()));
        assert_eq!(b.call("PING"), Reply::Simple("PONG".into()));
        let mut refused = Client::connect(s.addr);
        assert_eq!(
            refused.read().unwrap(),
            Reply::Error("ERR max number of clients reached".into())
        );
        assert!(refused.at_eof());
        drop(a);
        eventually("a's place to free up", || s.server.connected() == 1);
        let mut c = Client::connect(s.addr);
        assert_eq!(c.call("PING"), Reply::Simple("PONG".into()));
        assert_eq!(b.call("PING"), Reply::Simple("PONG".into()));
    });
}

#[test]
fn cancelling_the_context_shuts_down_gracefully() {
    run(|| {
        let s = start_default();
        let mut idle = Client::connect(s.addr);
        let mut sub = Client::connect(s.addr);
        assert_eq!(idle.call("SET k v"), ok());
        assert_eq!(
            sub.call("SUBSCRIBE ch").clone(),
            Reply::Array(Some(vec![bulk("subscribe"), bulk("ch"), int(1)]))
        );
        // A command in flight at the cancel is still answered.
        idle.send("GET k");
        s.cancel.cancel();
        assert_eq!(s.serving.join().unwrap().unwrap(), ());
        assert_eq!(idle.read().unwrap(), bulk("v"));
        assert!(idle.at_eof());
        assert!(sub.at_eof());
        assert_eq!(s.server.connected(), 0);
        // The listener is closed: nobody answers there any more.
        let refused = goro::net::TcpStream::connect(s.addr);
        assert!(refused.is_err(), "still accepting after shutdown");
    });
}

/// Runs a command-line client of the Redis project, or `None` (with the
/// reason printed) when it is not installed; `.ci/run` installs it.
fn redis_tool(tool: &str, args: &[String]) -> Option<String> {
    let mut cmd = std::process::Command::new(tool);
    cmd.args(args);
    match goro::blocking(move || cmd.output()) {
        Ok(out) => {
            assert!(out.status.success(), "{tool} {args:?}: {out:?}");
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            println!("skipped: {tool} is not installed (apt-get install redis-tools)");
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

#[test]
fn redis_cli_talks_to_it() {
    run(|| {
        let s = start_default();
        let port = s.addr.port().to_string();
        let cli = |words: &str| {
            let mut args = vec!["-p".to_string(), port.clone()];
            args.extend(words.split_whitespace().map(str::to_string));
            redis_tool("redis-cli", &args)
        };
        let Some(pong) = cli("PING") else { return };
        assert_eq!(pong, "PONG\n");
        assert_eq!(cli("SET greeting hello").unwrap(), "OK\n");
        assert_eq!(cli("GET greeting").unwrap(), "hello\n");
        assert_eq!(cli("INCRBY n 5").unwrap(), "5\n");
        assert_eq!(cli("RPUSH l a b c").unwrap(), "3\n");
        assert_eq!(cli("LRANGE l 0 -1").unwrap(), "a\nb\nc\n");
        assert!(cli("INFO").unwrap().contains("goroutines:"));
    });
}

#[test]
fn redis_benchmark_runs_every_benchmarked_command() {
    run(|| {
        let s = start_default();
        let args: Vec<String> =
            "-p PORT -t ping,set,get,incr,lpush,lpop,mset -n 2000 -c 20 -P 4 --csv"
                .replace("PORT", &s.addr.port().to_string())
                .split_whitespace()
                .map(str::to_string)
                .collect();
        let Some(csv) = redis_tool("redis-benchmark", &args) else {
            return;
        };
        for test in [
            "PING_INLINE",
            "PING_MBULK",
            "SET",
            "GET",
            "INCR",
            "LPUSH",
            "LPOP",
            "MSET (10 keys)",
        ] {
            assert!(
                csv.contains(&format!("\"{test}\"")),
                "{test} missing from:\n{csv}"
            );
        }
        let mut c = Client::connect(s.addr);
        // Every INCR arrived: redis-benchmark's counter key holds -n.
        assert_eq!(c.call("GET counter:__rand_int__"), bulk("2000"));
    });
}
