//! RESP2 framing: splitting a connection's input into commands and writing
//! replies.
//!
//! A request is either an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
//! what every client library sends) or an inline command (`PING\r\n`, what
//! `redis-cli` piped input and `redis-benchmark`'s PING_INLINE send).
//! [`parse`] looks at the unconsumed input and answers "a whole command of
//! this many bytes, its arguments at these offsets", "not complete yet" or
//! "malformed": it never copies and keeps no state between calls, so a
//! frame split across reads is simply parsed again once more bytes arrive.
//! The arguments are byte ranges into the input ([`Command`]), so the hot
//! path allocates nothing per request.
//!
//! Replies are appended to the connection's output buffer by the `write_*`
//! functions; the connection flushes the buffer once no complete command is
//! left in its input, which answers a pipeline with one write.

use std::io::Write;
use std::ops::Range;

/// Longest bulk string accepted (Redis's `proto-max-bulk-len` default).
pub const MAX_BULK: usize = 512 * 1024 * 1024;
/// Most arguments in one command (Redis accepts up to 1024 * 1024).
pub const MAX_ARGS: usize = 1024 * 1024;
/// Longest inline command or `*`/`$` header line (Redis's inline limit).
pub const MAX_INLINE: usize = 64 * 1024;

/// Input that is not RESP: the connection answers `-ERR Protocol error: ...`
/// and closes (as Redis does), leaving other connections alone.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

/// One complete command: its arguments as ranges of the input it was parsed
/// from. Invariant: every range lies within `input` and there is at least
/// one argument.
pub struct Command<'a> {
    input: &'a [u8],
    args: &'a [Range<usize>],
}

impl<'a> Command<'a> {
    pub fn new(input: &'a [u8], args: &'a [Range<usize>]) -> Command<'a> {
        debug_assert!(!args.is_empty() && args.iter().all(|r| r.end <= input.len()));
        Command { input, args }
    }

    /// Number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &'a [u8] {
        &self.input[self.args[i].clone()]
    }

    /// Arguments `from..`.
    pub fn args_from(&self, from: usize) -> impl ExactSizeIterator<Item = &'a [u8]> + '_ {
        self.args[from..].iter().map(|r| &self.input[r.clone()])
    }
}

/// Parses the command at the start of `input`. `Ok(Some(n))`: the first `n`
/// bytes (`n > 0`) are one command whose argument ranges are now in `args`,
/// which is empty for a blank inline line or `*0` (skipped, as Redis does);
/// `Ok(None)`: more bytes are needed.
pub fn parse(input: &[u8], args: &mut Vec<Range<usize>>) -> Result<Option<usize>, ProtocolError> {
    args.clear();
    match input.first() {
        None => Ok(None),
        Some(b'*') => parse_array(input, args),
        Some(_) => parse_inline(input, args),
    }
}

/// `*<n>\r\n` followed by `n` times `$<len>\r\n<bytes>\r\n`.
fn parse_array(input: &[u8], args: &mut Vec<Range<usize>>) -> Result<Option<usize>, ProtocolError> {
    let Some((count, mut pos)) = header(input, 0, "invalid multibulk length")? else {
        return Ok(None);
    };
    if count > MAX_ARGS as i64 {
        return Err(ProtocolError("invalid multibulk length"));
    }
    // `*0` and negative counts are empty commands, skipped as Redis does.
    for _ in 0..count.max(0) {
        match input.get(pos) {
            None => return Ok(None),
            Some(b'$') => {}
            Some(_) => return Err(ProtocolError("expected '$'")),
        }
        let Some((len, start)) = header(input, pos, "invalid bulk length")? else {
            return Ok(None);
        };
        if !(0..=MAX_BULK as i64).contains(&len) {
            return Err(ProtocolError("invalid bulk length"));
        }
        let end = start + len as usize;
        if input.len() < end + 2 {
            return Ok(None);
        }
        if &input[end..end + 2] != b"\r\n" {
            return Err(ProtocolError("bulk string not terminated by CRLF"));
        }
        args.push(start..end);
        pos = end + 2;
    }
    Ok(Some(pos))
}

/// The integer of the `*`/`$` line at `at` and the offset after its CRLF.
fn header(
    input: &[u8],
    at: usize,
    what: &'static str,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let Some(eol) = input[at..].iter().position(|&b| b == b'\n') else {
        if input.len() - at > MAX_INLINE {
            return Err(ProtocolError("too big header line"));
        }
        return Ok(None);
    };
    if eol < 2 || input[at + eol - 1] != b'\r' {
        return Err(ProtocolError(what));
    }
    let digits = &input[at + 1..at + eol - 1];
    let n = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(ProtocolError(what))?;
    Ok(Some((n, at + eol + 1)))
}

/// A line of space-separated words ended by `\n` (a `\r` before it is
/// dropped). Quoting, which redis-cli never sends inline, is not supported.
fn parse_inline(
    input: &[u8],
    args: &mut Vec<Range<usize>>,
) -> Result<Option<usize>, ProtocolError> {
    let Some(nl) = input.iter().position(|&b| b == b'\n') else {
        if input.len() > MAX_INLINE {
            return Err(ProtocolError("too big inline request"));
        }
        return Ok(None);
    };
    let line_end = if nl > 0 && input[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let mut i = 0;
    while i < line_end {
        if input[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < line_end && !input[i].is_ascii_whitespace() {
            i += 1;
        }
        args.push(start..i);
    }
    Ok(Some(nl + 1))
}

pub fn write_simple(out: &mut Vec<u8>, s: &str) {
    out.push(b'+');
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub fn write_ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

pub fn write_error(out: &mut Vec<u8>, msg: &str) {
    out.push(b'-');
    out.extend_from_slice(msg.as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub fn write_int(out: &mut Vec<u8>, n: i64) {
    let _ = write!(out, ":{n}\r\n");
}

pub fn write_bulk(out: &mut Vec<u8>, b: &[u8]) {
    let _ = write!(out, "${}\r\n", b.len());
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// The null bulk string (`GET` of a missing key).
pub fn write_nil(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// An array header; the caller writes `n` elements after it.
pub fn write_array_len(out: &mut Vec<u8>, n: usize) {
    let _ = write!(out, "*{n}\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed command: bytes consumed, its arguments.
    type Parsed = Option<(usize, Vec<Vec<u8>>)>;

    fn words(input: &[u8]) -> Result<Parsed, ProtocolError> {
        let mut args = Vec::new();
        Ok(parse(input, &mut args)?
            .map(|n| (n, args.iter().map(|r| input[r.clone()].to_vec()).collect())))
    }

    #[test]
    fn array_inline_partial_and_bad() {
        let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n";
        let (n, w) = words(set).unwrap().unwrap();
        assert_eq!(
            (n, w),
            (
                set.len(),
                vec![b"SET".to_vec(), b"k".to_vec(), b"vv".to_vec()]
            )
        );
        for cut in 0..set.len() {
            assert_eq!(words(&set[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(
            words(b"PING  x\r\nGET").unwrap().unwrap().1,
            vec![b"PING".to_vec(), b"x".to_vec()]
        );
        assert_eq!(words(b"*1\r\n+OK\r\n"), Err(ProtocolError("expected '$'")));
        assert_eq!(
            words(b"*x\r\n"),
            Err(ProtocolError("invalid multibulk length"))
        );
        assert_eq!(
            words(b"*1\r\n$-5\r\n"),
            Err(ProtocolError("invalid bulk length"))
        );
        assert_eq!(
            words(b"*1\r\n$1\r\nab\r\n"),
            Err(ProtocolError("bulk string not terminated by CRLF"))
        );
    }
}
