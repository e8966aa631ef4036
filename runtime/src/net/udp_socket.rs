//! `UdpSocket`: datagrams whose blocking receives and sends park the
//! goroutine. Addresses are resolved as for TCP (`addr.rs`: a host name on
//! a `blocking` helper, a socket address or IP literal at once).

use std::io;
use std::net::SocketAddr;

use super::addr::{resolve, ToSocketAddrs};
use super::fd::{each_addr, Pollable};

/// A UDP socket (std's `UdpSocket` API).
pub struct UdpSocket {
    inner: Pollable<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to the first address of `addr` that works.
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let std = each_addr(&resolve(&addr)?, |a| std::net::UdpSocket::bind(a))?;
        UdpSocket::from_std(std)
    }

    /// Sets the default destination of `send` and the only source `recv`
    /// accepts.
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(&resolve(&addr)?, |a| self.inner.get_ref().connect(a))
    }

    /// Receives one datagram (waiting for it) and its sender.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read(|s| s.recv_from(buf))
    }

    /// Like `recv_from`, without taking the datagram off the queue.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read(|s| s.peek_from(buf))
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(|s| s.recv(buf))
    }

    /// Sends `buf` to the first address of `addr`.
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let to = resolve(&addr)?[0];
        self.inner.write(|s| s.send_to(buf, to))
    }

    /// Sends `buf` to the connected peer.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(|s| s.send(buf))
    }

    /// The address given to `connect` (Go's `RemoteAddr`); `NotConnected`
    /// before it.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Allows (`true`) or forbids sending to a broadcast address
    /// (`SO_BROADCAST`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.get_ref().broadcast()
    }

    /// Sets the IP time-to-live of outgoing datagrams (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing datagrams (`IP_TTL`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get_ref().ttl()
    }
}

socket_common!(UdpSocket, SocketAddr);
socket_timeouts!(UdpSocket);
socket_std_conv!(UdpSocket, std::net::UdpSocket);
