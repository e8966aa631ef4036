//! One client connection, served by its own goroutine: read what the
//! client sent, run every complete command in it, write the replies in one
//! go, read again. A pipeline is thus answered in order with one write per
//! read; a frame split across reads waits in the buffer for its rest.
//!
//! Malformed input gets `-ERR Protocol error: ...` and closes this
//! connection only. When the server's context is done, an `after_func`
//! shuts the socket's read side: the blocked read sees end of stream and
//! the goroutine returns after answering what it had.
//!
//! SUBSCRIBE switches the connection to pub/sub: from then on every reply
//! goes through the connection's outbox to a writer goroutine
//! (`pubsub.rs`), the same path publishers' messages take, so the client
//! sees both in the order they were queued.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;

use goro::context::{self, Context};
use goro::net::TcpStream;
use goro::{chan, JoinHandle, Receiver};

use super::commands;
use super::pubsub::{Outbox, OUTBOX_FRAMES};
use super::resp::{self, Command};
use super::server::Server;

/// Input read per system call at least; the buffer grows for larger frames.
const READ_CHUNK: usize = 16 * 1024;
/// Replies buffered before they are written even mid-pipeline.
const FLUSH_AT: usize = 64 * 1024;

/// Serves `conn` until the client leaves, sends QUIT or malformed input,
/// or `ctx` is done.
pub fn handle(server: &Server, conn: TcpStream, ctx: &Context) -> io::Result<()> {
    let conn = Arc::new(conn);
    conn.set_nodelay(true)?;
    let watch = {
        let conn = conn.clone();
        context::after_func(ctx, move || {
            let _ = conn.shutdown(Shutdown::Read);
        })
    };
    let mut session = Session {
        server,
        id: server.next_id(),
        conn,
        out: Vec::with_capacity(READ_CHUNK),
        pubsub: None,
    };
    let result = session.serve();
    watch.stop();
    session.leave_pubsub();
    result
}

/// Whether the connection goes on after a command.
#[derive(PartialEq)]
enum Flow {
    Continue,
    Quit,
}

struct Session<'a> {
    server: &'a Server,
    id: u64,
    conn: Arc<TcpStream>,
    /// Replies not yet written.
    out: Vec<u8>,
    /// Set from the first SUBSCRIBE on.
    pubsub: Option<Subscriber>,
}

/// A connection in pub/sub mode: its outbox and the goroutine writing it.
struct Subscriber {
    outbox: Outbox,
    writer: JoinHandle<()>,
    /// Channels subscribed to, in the order UNSUBSCRIBE reports them.
    channels: BTreeSet<Vec<u8>>,
}

impl Session<'_> {
    fn serve(&mut self) -> io::Result<()> {
        let mut input = vec![0u8; READ_CHUNK];
        let (mut start, mut end) = (0, 0);
        let mut args = Vec::new();
        loop {
            loop {
                match resp::parse(&input[start..end], &mut args) {
                    Ok(Some(n)) => {
                        let frame = &input[start..start + n];
                        start += n;
                        if args.is_empty() {
                            continue;
                        }
                        if self.dispatch(&Command::new(frame, &args)) == Flow::Quit {
                            return self.flush();
                        }
                        if self.out.len() >= FLUSH_AT {
                            self.flush()?;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        resp::write_error(&mut self.out, &format!("ERR Protocol error: {}", e.0));
                        return self.flush();
                    }
                }
            }
            self.flush()?;
            // Keep the unparsed tail at the front, with room to read after it.
            if start == end {
                (start, end) = (0, 0);
            } else if input.len() - end < READ_CHUNK / 4 {
                input.copy_within(start..end, 0);
                (start, end) = (0, end - start);
                if input.len() - end < READ_CHUNK / 4 {
                    input.resize(2 * input.len(), 0);
                }
            }
            let n = (&*self.conn).read(&mut input[end..])?;
            if n == 0 {
                return Ok(());
            }
            end += n;
        }
    }

    fn dispatch(&mut self, cmd: &Command<'_>) -> Flow {
        let name = cmd.arg(0);
        if name.eq_ignore_ascii_case(b"QUIT") {
            resp::write_ok(&mut self.out);
            return Flow::Quit;
        }
        if name.eq_ignore_ascii_case(b"SUBSCRIBE") && cmd.len() > 1 {
            self.subscribe(cmd);
        } else if name.eq_ignore_ascii_case(b"UNSUBSCRIBE") {
            self.unsubscribe(cmd);
        } else if self.pubsub.as_ref().is_some_and(|s| !s.channels.is_empty()) {
            if name.eq_ignore_ascii_case(b"PING") && cmd.len() <= 2 {
                // RESP2 clients in pub/sub mode get PING's answer as a message.
                resp::write_array_len(&mut self.out, 2);
                resp::write_bulk(&mut self.out, b"pong");
                resp::write_bulk(&mut self.out, if cmd.len() == 2 { cmd.arg(1) } else { b"" });
            } else {
                let name = String::from_utf8_lossy(name).to_lowercase();
                let msg = format!(
                    "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
                );
                resp::write_error(&mut self.out, &msg);
            }
        } else {
            commands::execute(self.server, cmd, &mut self.out);
        }
        Flow::Continue
    }

    /// SUBSCRIBE: each confirmation enters the outbox before the broker
    /// knows the subscriber, so no message can overtake it.
    fn subscribe(&mut self, cmd: &Command<'_>) {
        if self.pubsub.is_none() {
            // Replies so far go straight to the socket, before the writer starts.
            if self.flush().is_err() {
                return;
            }
            let (outbox, inbox) = chan(OUTBOX_FRAMES);
            let conn = self.conn.clone();
            self.pubsub = Some(Subscriber {
                outbox,
                writer: goro::go!(write_frames(conn, inbox)),
                channels: BTreeSet::new(),
            });
        }
        for channel in cmd.args_from(1) {
            let sub = self.pubsub.as_mut().expect("started above");
            let new = sub.channels.insert(channel.to_vec());
            confirm(
                &mut self.out,
                b"subscribe",
                Some(channel),
                sub.channels.len(),
            );
            if self.flush().is_err() {
                return;
            }
            if new {
                let sub = self.pubsub.as_ref().expect("started above");
                self.server.broker.subscribe(channel, self.id, &sub.outbox);
            }
        }
    }

    /// UNSUBSCRIBE [channel...]: no channel named means all of them.
    fn unsubscribe(&mut self, cmd: &Command<'_>) {
        let Some(sub) = self.pubsub.as_mut() else {
            return confirm(&mut self.out, b"unsubscribe", None, 0);
        };
        let named: Vec<Vec<u8>> = if cmd.len() > 1 {
            cmd.args_from(1).map(<[u8]>::to_vec).collect()
        } else {
            sub.channels.iter().cloned().collect()
        };
        if named.is_empty() {
            return confirm(&mut self.out, b"unsubscribe", None, 0);
        }
        for channel in named {
            if sub.channels.remove(&channel) {
                self.server.broker.unsubscribe(&channel, self.id);
            }
            confirm(
                &mut self.out,
                b"unsubscribe",
                Some(&channel),
                sub.channels.len(),
            );
        }
    }

    /// Writes the buffered replies: to the socket, or in pub/sub mode to
    /// the outbox (parking while it is full).
    fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        match &self.pubsub {
            None => (&*self.conn).write_all(&self.out)?,
            Some(sub) => {
                if sub.outbox.send(self.out.as_slice().into()).is_err() {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
            }
        }
        self.out.clear();
        Ok(())
    }

    /// Leaves every channel and waits for the writer to drain the outbox
    /// (it ends once the last sender, ours or a publisher's clone, is gone).
    fn leave_pubsub(&mut self) {
        let Some(sub) = self.pubsub.take() else {
            return;
        };
        for channel in &sub.channels {
            self.server.broker.unsubscribe(channel, self.id);
        }
        drop(sub.outbox);
        let _ = sub.writer.join();
    }
}

/// `*3 (un)subscribe channel count`; a nil channel when there was none.
fn confirm(out: &mut Vec<u8>, kind: &[u8], channel: Option<&[u8]>, count: usize) {
    resp::write_array_len(out, 3);
    resp::write_bulk(out, kind);
    match channel {
        Some(c) => resp::write_bulk(out, c),
        None => resp::write_nil(out),
    }
    resp::write_int(out, count as i64);
}

/// A subscriber's writer goroutine: frames from the outbox to the socket,
/// as many per write as are waiting. Ends when the outbox closes or the
/// socket fails (then publishers' sends fail and are not counted).
fn write_frames(conn: Arc<TcpStream>, inbox: Receiver<Arc<[u8]>>) {
    let mut batch = Vec::with_capacity(READ_CHUNK);
    while let Ok(frame) = inbox.recv() {
        batch.clear();
        batch.extend_from_slice(&frame);
        while batch.len() < FLUSH_AT {
            let Ok(frame) = inbox.try_recv() else { break };
            batch.extend_from_slice(&frame);
        }
        if (&*conn).write_all(&batch).is_err() {
            return;
        }
    }
}
