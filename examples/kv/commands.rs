//! The data commands: each reads its arguments from a parsed [`Command`],
//! works on the keyspace under one shard lock (MSET: its shards' locks, in
//! order) and appends its reply to the connection's output buffer.
//!
//! Connection-state commands (QUIT, SUBSCRIBE, UNSUBSCRIBE) are handled by
//! the connection itself (`connection.rs`); everything else comes here.
//! Replies and error texts follow Redis 7's, so `redis-cli` and
//! `redis-benchmark` see what they expect.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::db::{Shard, Value};
use super::resp::{self, Command};
use super::server::Server;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

/// A command's implementation.
type Handler = fn(&Server, &Command<'_>, &mut Vec<u8>);

/// Runs `cmd` (at least one argument), appending its reply to `out`.
pub fn execute(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let mut name = [0u8; 16];
    let raw = cmd.arg(0);
    let upper = if raw.len() <= name.len() {
        name[..raw.len()].copy_from_slice(raw);
        name[..raw.len()].make_ascii_uppercase();
        &name[..raw.len()]
    } else {
        raw
    };
    // Arity as Redis counts it: n exactly, or -n for at least n.
    let (arity, run): (i32, Handler) = match upper {
        b"PING" => (-1, ping),
        b"ECHO" => (2, echo),
        b"GET" => (2, get),
        b"SET" => (-3, set),
        b"DEL" => (-2, del),
        b"EXISTS" => (-2, exists),
        b"INCR" => (2, |s, c, o| incr_by(s, c.arg(1), 1, o)),
        b"DECR" => (2, |s, c, o| incr_by(s, c.arg(1), -1, o)),
        b"INCRBY" => (3, |s, c, o| {
            with_int(c.arg(2), o, |n, o| incr_by(s, c.arg(1), n, o))
        }),
        b"DECRBY" => (3, |s, c, o| {
            with_int(c.arg(2), o, |n, o| match n.checked_neg() {
                Some(n) => incr_by(s, c.arg(1), n, o),
                None => resp::write_error(o, "ERR decrement would overflow"),
            })
        }),
        b"MGET" => (-2, mget),
        b"MSET" => (-3, mset),
        b"EXPIRE" => (3, |s, c, o| expire(s, c, Duration::from_secs, o)),
        b"PEXPIRE" => (3, |s, c, o| expire(s, c, Duration::from_millis, o)),
        b"TTL" => (2, |s, c, o| ttl(s, c, 1000, o)),
        b"PTTL" => (2, |s, c, o| ttl(s, c, 1, o)),
        b"LPUSH" => (-3, |s, c, o| push(s, c, true, o)),
        b"RPUSH" => (-3, |s, c, o| push(s, c, false, o)),
        b"LPOP" => (-2, |s, c, o| pop(s, c, true, o)),
        b"RPOP" => (-2, |s, c, o| pop(s, c, false, o)),
        b"LRANGE" => (4, lrange),
        b"PUBLISH" => (3, |s, c, o| {
            resp::write_int(o, s.broker.publish(c.arg(1), c.arg(2)) as i64)
        }),
        b"CONFIG" => (-2, config),
        b"DBSIZE" => (1, |s, _, o| resp::write_int(o, s.db.len() as i64)),
        b"FLUSHALL" | b"FLUSHDB" => (-1, |s, _, o| {
            s.db.clear();
            resp::write_ok(o)
        }),
        b"INFO" => (-1, |s, _, o| resp::write_bulk(o, s.info().as_bytes())),
        // redis-cli asks for the command table when it starts interactively.
        b"COMMAND" => (-1, |_, _, o| resp::write_array_len(o, 0)),
        _ => {
            let name = String::from_utf8_lossy(raw);
            let mut msg = format!("ERR unknown command '{name}', with args beginning with: ");
            for a in cmd.args_from(1) {
                msg.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
            }
            return resp::write_error(out, &msg);
        }
    };
    let n = cmd.len() as i32;
    if (arity > 0 && n != arity) || n < -arity {
        let name = String::from_utf8_lossy(raw).to_lowercase();
        let msg = format!("ERR wrong number of arguments for '{name}' command");
        return resp::write_error(out, &msg);
    }
    run(server, cmd, out)
}

fn ping(_: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    match cmd.len() {
        1 => resp::write_simple(out, "PONG"),
        2 => resp::write_bulk(out, cmd.arg(1)),
        _ => resp::write_error(out, "ERR wrong number of arguments for 'ping' command"),
    }
}

fn echo(_: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    resp::write_bulk(out, cmd.arg(1))
}

fn get(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let key = cmd.arg(1);
    match server.db.shard(key).get(key, Instant::now()) {
        None => resp::write_nil(out),
        Some(e) => match &e.value {
            Value::Str(v) => resp::write_bulk(out, v),
            Value::List(_) => resp::write_error(out, WRONGTYPE),
        },
    }
}

/// `SET key value [NX|XX] [EX s|PX ms|KEEPTTL]`.
fn set(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let now = Instant::now();
    let (mut nx, mut xx, mut keep_ttl, mut expires) = (false, false, false, None);
    let mut i = 3;
    while i < cmd.len() {
        let opt = cmd.arg(i);
        if opt.eq_ignore_ascii_case(b"NX") && !xx {
            nx = true;
        } else if opt.eq_ignore_ascii_case(b"XX") && !nx {
            xx = true;
        } else if opt.eq_ignore_ascii_case(b"KEEPTTL") && expires.is_none() {
            keep_ttl = true;
        } else if (opt.eq_ignore_ascii_case(b"EX") || opt.eq_ignore_ascii_case(b"PX"))
            && !keep_ttl
            && expires.is_none()
            && i + 1 < cmd.len()
        {
            let Some(n) = parse_int(cmd.arg(i + 1)) else {
                return resp::write_error(out, NOT_INTEGER);
            };
            let d = match (n > 0, opt.eq_ignore_ascii_case(b"EX")) {
                (false, _) => None,
                (true, true) => Some(Duration::from_secs(n as u64)),
                (true, false) => Some(Duration::from_millis(n as u64)),
            };
            let Some(at) = d.and_then(|d| now.checked_add(d)) else {
                return resp::write_error(out, "ERR invalid expire time in 'set' command");
            };
            expires = Some(at);
            i += 1;
        } else {
            return resp::write_error(out, SYNTAX);
        }
        i += 1;
    }
    let key = cmd.arg(1);
    let mut shard = server.db.shard(key);
    let old = shard.get(key, now);
    if (nx && old.is_some()) || (xx && old.is_none()) {
        return resp::write_nil(out);
    }
    if keep_ttl {
        expires = old.and_then(|e| e.expires());
    }
    shard.set(key, Value::Str(cmd.arg(2).to_vec()), expires);
    resp::write_ok(out)
}

fn del(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let now = Instant::now();
    let n = cmd
        .args_from(1)
        .filter(|k| server.db.shard(k).remove(k, now))
        .count();
    resp::write_int(out, n as i64)
}

fn exists(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let now = Instant::now();
    let n = cmd
        .args_from(1)
        .filter(|k| server.db.shard(k).get(k, now).is_some())
        .count();
    resp::write_int(out, n as i64)
}

/// INCR/DECR/INCRBY/DECRBY: adds `by` to the integer at `key` (0 if absent).
fn incr_by(server: &Server, key: &[u8], by: i64, out: &mut Vec<u8>) {
    let now = Instant::now();
    let mut shard = server.db.shard(key);
    let Some(e) = shard.get_mut(key, now) else {
        shard.set(key, Value::Str(by.to_string().into_bytes()), None);
        return resp::write_int(out, by);
    };
    let Value::Str(v) = &mut e.value else {
        return resp::write_error(out, WRONGTYPE);
    };
    let Some(old) = parse_int(v) else {
        return resp::write_error(out, NOT_INTEGER);
    };
    let Some(new) = old.checked_add(by) else {
        return resp::write_error(out, "ERR increment or decrement would overflow");
    };
    v.clear();
    v.extend_from_slice(new.to_string().as_bytes());
    resp::write_int(out, new)
}

fn mget(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let now = Instant::now();
    resp::write_array_len(out, cmd.len() - 1);
    for key in cmd.args_from(1) {
        match server.db.shard(key).get(key, now).map(|e| &e.value) {
            Some(Value::Str(v)) => resp::write_bulk(out, v),
            _ => resp::write_nil(out),
        }
    }
}

/// Sets every pair at once: the pairs' shards are locked together, in
/// index order, so no reader sees half of an MSET.
fn mset(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    if cmd.len().is_multiple_of(2) {
        return resp::write_error(out, "ERR wrong number of arguments for 'mset' command");
    }
    let pairs = || {
        (1..cmd.len())
            .step_by(2)
            .map(|i| (cmd.arg(i), cmd.arg(i + 1)))
    };
    let mut indices: Vec<usize> = pairs().map(|(k, _)| server.db.shard_of(k)).collect();
    indices.sort_unstable();
    indices.dedup();
    let mut guards = server.db.lock_sorted(&indices);
    for (k, v) in pairs() {
        let g = indices
            .binary_search(&server.db.shard_of(k))
            .expect("locked");
        guards[g].set(k, Value::Str(v.to_vec()), None);
    }
    resp::write_ok(out)
}

/// EXPIRE/PEXPIRE: `unit` turns the argument into a duration; a deadline
/// not in the future deletes the key, as in Redis.
fn expire(server: &Server, cmd: &Command<'_>, unit: fn(u64) -> Duration, out: &mut Vec<u8>) {
    let Some(n) = parse_int(cmd.arg(2)) else {
        return resp::write_error(out, NOT_INTEGER);
    };
    let now = Instant::now();
    let key = cmd.arg(1);
    let mut shard = server.db.shard(key);
    let done = if n <= 0 {
        shard.remove(key, now)
    } else {
        match now.checked_add(unit(n as u64)) {
            Some(at) => shard.set_expiry(key, Some(at), now),
            None => return resp::write_error(out, "ERR invalid expire time in 'expire' command"),
        }
    };
    resp::write_int(out, done as i64)
}

/// TTL/PTTL: -2 no key, -1 no deadline, else the time left in units of
/// `unit_ms` milliseconds, rounded to nearest as Redis does.
fn ttl(server: &Server, cmd: &Command<'_>, unit_ms: u128, out: &mut Vec<u8>) {
    let now = Instant::now();
    let key = cmd.arg(1);
    let n = match server.db.shard(key).get(key, now).map(|e| e.expires()) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => ((at - now).as_millis() + unit_ms / 2) as i64 / unit_ms as i64,
    };
    resp::write_int(out, n)
}

fn push(server: &Server, cmd: &Command<'_>, front: bool, out: &mut Vec<u8>) {
    let now = Instant::now();
    let key = cmd.arg(1);
    let mut shard = server.db.shard(key);
    if shard.get(key, now).is_none() {
        shard.set(key, Value::List(VecDeque::new()), None);
    }
    let Some(Value::List(list)) = shard.get_mut(key, now).map(|e| &mut e.value) else {
        return resp::write_error(out, WRONGTYPE);
    };
    for v in cmd.args_from(2) {
        if front {
            list.push_front(v.to_vec());
        } else {
            list.push_back(v.to_vec());
        }
    }
    resp::write_int(out, list.len() as i64)
}

/// LPOP/RPOP `key [count]`: one element as a bulk string, or with a count
/// an array of up to `count`; an emptied list's key is removed.
fn pop(server: &Server, cmd: &Command<'_>, front: bool, out: &mut Vec<u8>) {
    let count = match cmd.len() {
        2 => None,
        3 => match parse_int(cmd.arg(2)) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return resp::write_error(out, "ERR value is out of range, must be positive"),
        },
        _ => return resp::write_error(out, SYNTAX),
    };
    let now = Instant::now();
    let key = cmd.arg(1);
    let mut shard = server.db.shard(key);
    let list = match shard.get_mut(key, now).map(|e| &mut e.value) {
        None => return resp::write_nil(out),
        Some(Value::Str(_)) => return resp::write_error(out, WRONGTYPE),
        Some(Value::List(list)) => list,
    };
    let take = |list: &mut VecDeque<Vec<u8>>| {
        if front {
            list.pop_front()
        } else {
            list.pop_back()
        }
    };
    match count {
        None => match take(list) {
            Some(v) => resp::write_bulk(out, &v),
            None => resp::write_nil(out),
        },
        Some(n) => {
            let n = n.min(list.len());
            resp::write_array_len(out, n);
            for _ in 0..n {
                let v = take(list).expect("counted");
                resp::write_bulk(out, &v);
            }
        }
    }
    remove_if_empty(&mut shard, key, now);
}

fn remove_if_empty(shard: &mut Shard, key: &[u8], now: Instant) {
    if let Some(Value::List(l)) = shard.get(key, now).map(|e| &e.value) {
        if l.is_empty() {
            shard.remove(key, now);
        }
    }
}

/// `LRANGE key start stop`, inclusive, negative indices from the end.
fn lrange(server: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    let (Some(start), Some(stop)) = (parse_int(cmd.arg(2)), parse_int(cmd.arg(3))) else {
        return resp::write_error(out, NOT_INTEGER);
    };
    let key = cmd.arg(1);
    let mut shard = server.db.shard(key);
    let list = match shard.get(key, Instant::now()).map(|e| &e.value) {
        None => return resp::write_array_len(out, 0),
        Some(Value::Str(_)) => return resp::write_error(out, WRONGTYPE),
        Some(Value::List(list)) => list,
    };
    let len = list.len() as i64;
    let from_end = |i: i64| if i < 0 { len + i } else { i };
    let (start, stop) = (from_end(start).max(0), from_end(stop).min(len - 1));
    if start > stop {
        return resp::write_array_len(out, 0);
    }
    resp::write_array_len(out, (stop - start + 1) as usize);
    for v in list.range(start as usize..=stop as usize) {
        resp::write_bulk(out, v);
    }
}

/// `CONFIG GET name...`: the settings `redis-benchmark` probes at start
/// (`save`, `appendonly`), as a Redis without persistence answers them.
fn config(_: &Server, cmd: &Command<'_>, out: &mut Vec<u8>) {
    if !cmd.arg(1).eq_ignore_ascii_case(b"GET") || cmd.len() < 3 {
        return resp::write_error(out, "ERR CONFIG supports only GET <parameter>...");
    }
    const SETTINGS: [(&str, &str); 2] = [("save", ""), ("appendonly", "no")];
    let found: Vec<_> = SETTINGS
        .iter()
        .filter(|(name, _)| {
            cmd.args_from(2)
                .any(|a| a.eq_ignore_ascii_case(name.as_bytes()))
        })
        .collect();
    resp::write_array_len(out, 2 * found.len());
    for (name, value) in found {
        resp::write_bulk(out, name.as_bytes());
        resp::write_bulk(out, value.as_bytes());
    }
}

/// Runs `f` with `arg` as an integer, or replies with Redis's error.
fn with_int(arg: &[u8], out: &mut Vec<u8>, f: impl FnOnce(i64, &mut Vec<u8>)) {
    match parse_int(arg) {
        Some(n) => f(n, out),
        None => resp::write_error(out, NOT_INTEGER),
    }
}

/// A decimal i64 (Rust's parser, less the leading `+` Redis refuses).
fn parse_int(b: &[u8]) -> Option<i64> {
    if b.first() == Some(&b'+') {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}
