//! A small RESP2 client over `goro::net` for the goro-kv tests: it encodes
//! commands as arrays of bulk strings and decodes every reply type, so the
//! tests check the server against the protocol, not against its own code.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use goro::net::TcpStream;

/// A decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    /// `None`: the null bulk string.
    Bulk(Option<Vec<u8>>),
    /// `None`: the null array.
    Array(Option<Vec<Reply>>),
}

/// `Reply::Bulk` of `s`.
pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

pub fn ok() -> Reply {
    Reply::Simple("OK".into())
}

pub fn nil() -> Reply {
    Reply::Bulk(None)
}

/// An array of bulk strings.
pub fn bulks(items: &[&str]) -> Reply {
    Reply::Array(Some(items.iter().map(|s| bulk(s)).collect()))
}

/// `args` as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

pub struct Client {
    conn: BufReader<TcpStream>,
}

impl Client {
    /// Connects, with a generous read timeout as a hang guard.
    pub fn connect(addr: SocketAddr) -> Client {
        let conn = TcpStream::connect(addr).expect("connect to goro-kv");
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Client {
            conn: BufReader::new(conn),
        }
    }

    pub fn stream(&self) -> &TcpStream {
        self.conn.get_ref()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.conn
            .get_ref()
            .write_all(bytes)
            .expect("write to goro-kv");
    }

    /// Sends a command (space-separated words) without reading the reply.
    pub fn send(&mut self, cmd: &str) {
        let words: Vec<&[u8]> = cmd.split_whitespace().map(str::as_bytes).collect();
        self.send_raw(&encode(&words));
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, cmd: &str) -> Reply {
        self.send(cmd);
        self.read().expect("a reply")
    }

    /// Reads one reply; `UnexpectedEof` when the server closed.
    pub fn read(&mut self) -> io::Result<Reply> {
        let line = self.line()?;
        let (kind, rest) = line.split_at(1);
        let int = || -> io::Result<i64> {
            rest.parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, line.clone()))
        };
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(int()?),
            "$" => match int()? {
                -1 => Reply::Bulk(None),
                n => {
                    let mut buf = vec![0; n as usize + 2];
                    self.conn.read_exact(&mut buf)?;
                    buf.truncate(n as usize);
                    Reply::Bulk(Some(buf))
                }
            },
            "*" => match int()? {
                -1 => Reply::Array(None),
                n => Reply::Array(Some(
                    (0..n).map(|_| self.read()).collect::<io::Result<_>>()?,
                )),
            },
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, line)),
        })
    }

    /// Whether the server has closed the connection with nothing more
    /// to read (reads to its end; a reset counts as closed, a read timeout
    /// does not).
    pub fn at_eof(&mut self) -> bool {
        let mut rest = Vec::new();
        match self.conn.read_to_end(&mut rest) {
            Ok(_) => rest.is_empty(),
            Err(e) => e.kind() == io::ErrorKind::ConnectionReset && rest.is_empty(),
        }
    }

    fn line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.conn.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        line.strip_suffix("\r\n")
            .map(str::to_string)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, line))
    }
}
