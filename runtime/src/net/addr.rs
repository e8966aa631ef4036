//! [`ToSocketAddrs`]: the addresses `goro::net` binds, connects and sends
//! to, for the same types as std's trait of that name.
//!
//! std's trait resolves a host name with `getaddrinfo`, which may block the
//! thread for seconds, so goro looks names up on a [`blocking`] helper. But
//! that hand-off costs a wake-up of the helper and one of the goroutine,
//! several times what a UDP `send_to` costs on its own (docs/benchmarks.md,
//! "Why these constants"), and most addresses are socket addresses or IP
//! literals that need no lookup at all. So goro has its own
//! (sealed) trait, as Tokio does: every implementation says whether it
//! knows its addresses now (no system call, no allocation for one address)
//! or names a host to look up, owned, so the helper can take it.
//!
//! [`blocking`]: crate::blocking

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Addresses `goro::net` can use: socket addresses, `(ip, port)` and
/// `(host, port)` pairs, `"host:port"` strings and slices of socket
/// addresses (std's `ToSocketAddrs` types). Socket addresses and IP
/// literals are used as they are; a host name is looked up on a
/// [`blocking`](crate::blocking) helper, so the goroutine's thread never
/// waits for DNS.
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) use sealed::{Addrs, Name, Resolved};

mod sealed {
    use std::io;
    use std::net::{SocketAddr, ToSocketAddrs as _};

    pub trait Sealed {
        /// The addresses, or the name to look up.
        fn addrs(&self) -> Addrs;
    }

    /// What [`Sealed::addrs`] knows without a lookup.
    pub enum Addrs {
        Known(Resolved),
        Lookup(Name),
    }

    /// Resolved addresses (one needs no allocation).
    pub enum Resolved {
        One(SocketAddr),
        Many(Vec<SocketAddr>),
    }

    /// A host to look up, owned so that a helper thread can take it.
    pub enum Name {
        /// `"host:port"`.
        HostPort(String),
        Host(String, u16),
    }

    impl Name {
        /// Looks the name up (may block the thread), with std's errors.
        pub fn lookup(&self) -> io::Result<Vec<SocketAddr>> {
            match self {
                Name::HostPort(s) => s.as_str().to_socket_addrs().map(Iterator::collect),
                Name::Host(host, port) => (host.as_str(), *port)
                    .to_socket_addrs()
                    .map(Iterator::collect),
            }
        }
    }
}

impl std::ops::Deref for Resolved {
    type Target = [SocketAddr];

    fn deref(&self) -> &[SocketAddr] {
        match self {
            Resolved::One(a) => std::slice::from_ref(a),
            Resolved::Many(v) => v,
        }
    }
}

/// Resolves `addr`: at once when it needs no lookup, otherwise on a
/// `blocking` helper. Fails like std when it yields no address.
pub(crate) fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Resolved> {
    let addrs = match addr.addrs() {
        Addrs::Known(known) => known,
        Addrs::Lookup(name) => Resolved::Many(goro_scheduler::blocking(move || name.lookup())?),
    };
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        ));
    }
    Ok(addrs)
}

macro_rules! known_addr {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn addrs(&self) -> Addrs {
                Addrs::Known(Resolved::One(SocketAddr::from(*self)))
            }
        }
    )*};
}

known_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn addrs(&self) -> Addrs {
        Addrs::Known(Resolved::Many(self.to_vec()))
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn addrs(&self) -> Addrs {
        match self.parse() {
            Ok(a) => Addrs::Known(Resolved::One(a)),
            Err(_) => Addrs::Lookup(Name::HostPort(self.to_owned())),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn addrs(&self) -> Addrs {
        self.as_str().addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::Known(Resolved::One(SocketAddr::new(ip, port))),
            Err(_) => Addrs::Lookup(Name::Host(host.to_owned(), port)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn addrs(&self) -> Addrs {
        (**self).addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    fn known<A: ToSocketAddrs + ?Sized>(a: &A) -> Option<Vec<SocketAddr>> {
        match a.addrs() {
            Addrs::Known(known) => Some(known.to_vec()),
            Addrs::Lookup(_) => None,
        }
    }

    #[test]
    fn literals_need_no_lookup_and_names_do() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(known(&v4), Some(vec![v4]));
        assert_eq!(known("127.0.0.1:80"), Some(vec![v4]));
        assert_eq!(known(&"[::1]:80".to_string()), Some(vec![v6]));
        assert_eq!(known(&("::1", 80)), Some(vec![v6]));
        assert_eq!(known(&(Ipv4Addr::LOCALHOST, 80)), Some(vec![v4]));
        assert_eq!(known(&[v4, v6][..]), Some(vec![v4, v6]));
        assert_eq!(known("localhost:80"), None);
        assert_eq!(known(&("localhost", 80)), None);
        assert_eq!(known(&("localhost".to_string(), 80)), None);
    }

    #[test]
    fn names_resolve_as_std_resolves_them() {
        let Addrs::Lookup(name) = "localhost:80".addrs() else {
            panic!("a name needs a lookup");
        };
        let ours = name.lookup().unwrap();
        let std: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs("localhost:80")
            .unwrap()
            .collect();
        assert_eq!(ours, std);
        let Addrs::Lookup(bad) = "no port here".addrs() else {
            panic!("not an address");
        };
        assert_eq!(
            bad.lookup().unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
