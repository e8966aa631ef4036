//! `SocketAddr` to and from the C `sockaddr` that `connect(2)` takes and
//! `accept4(2)` fills, and a Unix socket path to the `sockaddr_un` that
//! `connect(2)` takes.
//!
//! Every C address lives in a [`RawAddr`]: a `sockaddr_storage` whose bytes
//! are all initialized, by construction. Writing a `sockaddr_in` (or `_in6`,
//! `_un`) into it and reading one back out is then sound for each of these
//! [`PlainSockaddr`] types, argued once in `RawAddr::new` and
//! `RawAddr::load` instead of at each conversion.

use std::io;
use std::mem::{align_of, size_of};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A libc socket address type a [`RawAddr`] holds: plain C data, integers
/// and arrays of them without padding bytes, so all its bytes are
/// initialized and every bit pattern is a valid value.
///
/// # Safety
/// Only for types as described, no larger than `sockaddr_storage` and
/// aligned no stricter than it (`fits`, asserted at compile time where
/// they are stored or loaded).
unsafe trait PlainSockaddr: Copy {}

macro_rules! plain_sockaddr {
    ($($name:ident),*) => {$(
        // SAFETY: libc's Linux definition of this struct is a family
        // (`u16`), then integers, byte arrays and `in_addr`/`in6_addr`
        // (integers, bytes), each at an offset that is a multiple of its
        // alignment, with no gap between them or after the last.
        unsafe impl PlainSockaddr for libc::$name {}
    )*};
}

plain_sockaddr!(sockaddr_in, sockaddr_in6, sockaddr_un);

/// Whether an `A` fits at the start of a `sockaddr_storage`.
const fn fits<A>() -> bool {
    size_of::<A>() <= size_of::<libc::sockaddr_storage>()
        && align_of::<A>() <= align_of::<libc::sockaddr_storage>()
}

/// A C socket address and the length of its meaningful part.
pub(crate) struct RawAddr {
    /// Invariant: every byte is initialized. It starts zeroed, and is then
    /// written only by `new` (with a [`PlainSockaddr`], which has no
    /// padding) or by the kernel (`receive`).
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawAddr {
    /// All-zero storage, every byte of it meaningful (a buffer to fill).
    fn zeroed() -> RawAddr {
        RawAddr {
            // SAFETY: `sockaddr_storage` is a family, padding bytes and an
            // integer: all-zero bytes are a valid value, every byte of it
            // initialized.
            storage: unsafe { std::mem::zeroed() },
            len: size_of::<libc::sockaddr_storage>() as libc::socklen_t,
        }
    }

    /// `addr` at the start of otherwise zeroed storage; `len` bytes are
    /// meaningful.
    fn new<A: PlainSockaddr>(addr: A, len: usize) -> RawAddr {
        const { assert!(fits::<A>()) };
        let mut raw = RawAddr::zeroed();
        let at = (&mut raw.storage as *mut libc::sockaddr_storage).cast::<A>();
        // SAFETY: `A` fits in the storage and is aligned for it (asserted
        // above), and has no padding (`PlainSockaddr`), so the storage's
        // bytes all stay initialized.
        unsafe { std::ptr::write(at, addr) };
        raw.len = len as libc::socklen_t;
        raw
    }

    /// The `A` at the start of the storage.
    fn load<A: PlainSockaddr>(&self) -> A {
        const { assert!(fits::<A>()) };
        let at = (&self.storage as *const libc::sockaddr_storage).cast::<A>();
        // SAFETY: `A` fits in the storage and is aligned for it (asserted
        // above); the bytes it covers are initialized (the field's
        // invariant), and any bit pattern is a valid `A` (`PlainSockaddr`).
        unsafe { std::ptr::read(at) }
    }

    /// The address a system call writes: `call` gets the buffer and its
    /// length (in: its size; out: the address's length), as `accept4(2)`
    /// takes them.
    pub(crate) fn receive<R>(
        call: impl FnOnce(*mut libc::sockaddr, *mut libc::socklen_t) -> io::Result<R>,
    ) -> io::Result<(R, RawAddr)> {
        let mut raw = RawAddr::zeroed();
        let buf = (&mut raw.storage as *mut libc::sockaddr_storage).cast();
        let r = call(buf, &mut raw.len)?;
        Ok((r, raw))
    }

    /// The address, for a system call that reads `len()` bytes of it.
    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }

    /// The length of the meaningful part (as the kernel reported it, for a
    /// received address: it may exceed the storage if it was truncated).
    pub(crate) fn len(&self) -> libc::socklen_t {
        self.len
    }

    /// The socket address (IPv4 or IPv6) this holds.
    pub(crate) fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        let len = self.len as usize;
        match self.storage.ss_family as libc::c_int {
            libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
                let sin: libc::sockaddr_in = self.load();
                let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
                Ok(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
            }
            libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
                let sin6: libc::sockaddr_in6 = self.load();
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                let port = u16::from_be(sin6.sin6_port);
                Ok(SocketAddrV6::new(ip, port, sin6.sin6_flowinfo, sin6.sin6_scope_id).into())
            }
            family => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unexpected address family {family} (length {len})"),
            )),
        }
    }
}

/// `addr` as a C socket address.
pub(crate) fn to_raw(addr: &SocketAddr) -> RawAddr {
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            RawAddr::new(sin, size_of::<libc::sockaddr_in>())
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            RawAddr::new(sin6, size_of::<libc::sockaddr_in6>())
        }
    }
}

/// `path` as a `sockaddr_un`, by std's rules: no NUL byte in the path, and
/// shorter than `sun_path`; a path name's length counts its terminating
/// NUL.
pub(crate) fn unix_to_raw(path: &Path) -> io::Result<RawAddr> {
    let bytes = path.as_os_str().as_bytes();
    let mut sun: libc::sockaddr_un = RawAddr::zeroed().load();
    if bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "paths must not contain interior null bytes",
        ));
    }
    if bytes.len() >= sun.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path must be shorter than SUN_LEN",
        ));
    }
    sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, &src) in sun.sun_path.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    let path_offset = std::mem::offset_of!(libc::sockaddr_un, sun_path);
    let len = path_offset + bytes.len() + usize::from(!bytes.is_empty());
    Ok(RawAddr::new(sun, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_port_and_address_are_in_network_order() {
        let raw = to_raw(&"127.0.0.1:8080".parse().unwrap());
        assert_eq!(raw.len() as usize, size_of::<libc::sockaddr_in>());
        let sin: libc::sockaddr_in = raw.load();
        assert_eq!(sin.sin_family as i32, libc::AF_INET);
        assert_eq!(u16::from_be(sin.sin_port), 8080);
        assert_eq!(sin.sin_addr.s_addr.to_ne_bytes(), [127, 0, 0, 1]);
    }

    #[test]
    fn addresses_round_trip() {
        for a in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%3]:7"] {
            let a: SocketAddr = a.parse().unwrap();
            assert_eq!(to_raw(&a).to_socket_addr().unwrap(), a);
        }
        let mut unknown = RawAddr::zeroed();
        unknown.len = 0;
        assert!(unknown.to_socket_addr().is_err());
    }

    #[test]
    fn unix_paths_follow_std_rules() {
        let offset = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        let raw = unix_to_raw(Path::new("/tmp/a.sock")).unwrap();
        assert_eq!(raw.len() as usize, offset + "/tmp/a.sock".len() + 1);
        let sun: libc::sockaddr_un = raw.load();
        assert_eq!(sun.sun_family as i32, libc::AF_UNIX);
        assert_eq!(sun.sun_path[0] as u8, b'/');
        assert_eq!(sun.sun_path["/tmp/a.sock".len()], 0);

        let longest = "x".repeat(sun.sun_path.len() - 1);
        assert!(unix_to_raw(Path::new(&longest)).is_ok());
        let too_long = "x".repeat(sun.sun_path.len());
        for bad in [&too_long, "a\0b"] {
            let err = unix_to_raw(Path::new(bad)).err().map(|e| e.kind());
            assert_eq!(err, Some(io::ErrorKind::InvalidInput), "{bad:?}");
        }
    }
}
