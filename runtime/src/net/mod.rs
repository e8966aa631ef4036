//! Networking on the scheduler's poller (`goro::net`): std's socket types
//! and method names, with every blocking call parking the goroutine on the
//! network poller (`goro-scheduler`'s `netpoll/poller.rs`) instead of blocking the
//! OS thread. The sockets are non-blocking and registered with the poller
//! once, at creation; dropping one deregisters and closes it.
//!
//! Used from a plain thread (outside any runtime), the same calls block
//! that thread in poll(2), so the types work anywhere.
//!
//! Addresses are goro's own [`ToSocketAddrs`] (std's types): a socket
//! address or IP literal is used at once, while a host name, whose lookup
//! may block, is looked up on a [`blocking`](crate::blocking) helper.

#[macro_use]
mod shared_impls;
mod addr;
pub(crate) mod fd;
mod sockaddr;
mod tcp_listener;
mod tcp_stream;
mod udp_socket;
mod unix_listener;
mod unix_stream;

pub use addr::ToSocketAddrs;
pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_stream::TcpStream;
pub use udp_socket::UdpSocket;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

pub use std::net::{Shutdown, SocketAddr};
