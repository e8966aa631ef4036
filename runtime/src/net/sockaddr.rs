//! `SocketAddr` to and from the C `sockaddr` that `connect(2)` takes and
//! `accept4(2)` fills, and a Unix socket path to the `sockaddr_un` that
//! `connect(2)` takes.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `addr` as a `sockaddr_storage` and the length of its meaningful part.
pub(crate) fn to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid `sockaddr_storage`.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: `sockaddr_storage` is larger than and aligned for
            // every sockaddr type, `sockaddr_in` included.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
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
            // SAFETY: as above, for `sockaddr_in6`.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// `path` as a `sockaddr_un` (in a `sockaddr_storage`) and its length, by
/// std's rules: no NUL byte in the path, and shorter than `sun_path`; a
/// path name's length counts its terminating NUL.
pub(crate) fn unix_to_raw(path: &Path) -> io::Result<(libc::sockaddr_storage, libc::socklen_t)> {
    let bytes = path.as_os_str().as_bytes();
    // SAFETY: all-zero bytes are a valid `sockaddr_un`.
    let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
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
    // SAFETY: all-zero bytes are a valid `sockaddr_storage`.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    // SAFETY: `sockaddr_storage` is larger than and aligned for every
    // sockaddr type, `sockaddr_un` included.
    unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sun) };
    Ok((storage, len as libc::socklen_t))
}

/// The address the kernel wrote into `storage` (`len` bytes of it).
pub(crate) fn from_raw(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> io::Result<SocketAddr> {
    let ptr = (storage as *const libc::sockaddr_storage).cast::<u8>();
    match storage.ss_family as libc::c_int {
        libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the kernel wrote a `sockaddr_in` (family and length
            // checked); `sockaddr_storage` is aligned for it.
            let sin: libc::sockaddr_in = unsafe { std::ptr::read(ptr.cast()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6: libc::sockaddr_in6 = unsafe { std::ptr::read(ptr.cast()) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_port_and_address_are_in_network_order() {
        let (raw, len) = to_raw(&"127.0.0.1:8080".parse().unwrap());
        assert_eq!(len as usize, std::mem::size_of::<libc::sockaddr_in>());
        // SAFETY: `to_raw` wrote a sockaddr_in for a V4 address.
        let sin: libc::sockaddr_in =
            unsafe { std::ptr::read((&raw as *const libc::sockaddr_storage).cast()) };
        assert_eq!(sin.sin_family as i32, libc::AF_INET);
        assert_eq!(u16::from_be(sin.sin_port), 8080);
        assert_eq!(sin.sin_addr.s_addr.to_ne_bytes(), [127, 0, 0, 1]);
    }

    #[test]
    fn addresses_round_trip() {
        for a in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%3]:7"] {
            let a: SocketAddr = a.parse().unwrap();
            let (raw, len) = to_raw(&a);
            assert_eq!(from_raw(&raw, len).unwrap(), a);
        }
        // SAFETY: all-zero bytes are a valid `sockaddr_storage`.
        let unix: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        assert!(from_raw(&unix, 0).is_err());
    }

    #[test]
    fn unix_paths_follow_std_rules() {
        let offset = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        let (raw, len) = unix_to_raw(Path::new("/tmp/a.sock")).unwrap();
        assert_eq!(len as usize, offset + "/tmp/a.sock".len() + 1);
        // SAFETY: `unix_to_raw` wrote a sockaddr_un.
        let sun: libc::sockaddr_un =
            unsafe { std::ptr::read((&raw as *const libc::sockaddr_storage).cast()) };
        assert_eq!(sun.sun_family as i32, libc::AF_UNIX);
        assert_eq!(sun.sun_path[0] as u8, b'/');
        assert_eq!(sun.sun_path["/tmp/a.sock".len()], 0);

        let longest = "x".repeat(sun.sun_path.len() - 1);
        assert!(unix_to_raw(Path::new(&longest)).is_ok());
        let too_long = "x".repeat(sun.sun_path.len());
        let err = unix_to_raw(Path::new(&too_long)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = unix_to_raw(Path::new("a\0b")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
