//! `INFO`: Redis's sections that apply, plus a `# Goro` section with the
//! runtime's figures: goroutines, Ps (GOMAXPROCS) and how many goroutines
//! are parked for each wait reason, counted from `goro::dump_goroutines()`
//! (the SIGQUIT dump's `goroutine N [reason, ...]:` headers; INFO is rare,
//! so walking every goroutine is affordable).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::server::Server;

impl Server {
    /// The INFO text (`\r\n` line ends, as Redis sends).
    pub fn info(&self) -> String {
        let (keys, expires) = self.db.counts();
        let mut s = String::new();
        let _ = write!(
            s,
            "# Server\r\ngoro_kv_version:{}\r\nuptime_in_seconds:{}\r\n\r\n\
             # Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\n\r\n\
             # Goro\r\ngoroutines:{}\r\ngomaxprocs:{}\r\n",
            env!("CARGO_PKG_VERSION"),
            self.started.elapsed().as_secs(),
            self.connected(),
            self.config.max_clients,
            goro::num_goroutine(),
            goro::gomaxprocs(),
        );
        for (reason, n) in goroutines_by_state(&goro::dump_goroutines()) {
            let _ = write!(s, "goroutines_{}:{n}\r\n", reason.replace(' ', "_"));
        }
        let _ = write!(
            s,
            "\r\n# Stats\r\npubsub_channels:{}\r\n\r\n# Keyspace\r\ndb0:keys={keys},expires={expires}\r\n",
            self.broker.channel_count(),
        );
        s
    }
}

/// Goroutines per state (`running`, `chan receive`, `IO wait`, ...) from
/// a dump's headers.
pub fn goroutines_by_state(dump: &str) -> BTreeMap<&str, usize> {
    let mut by = BTreeMap::new();
    for line in dump.lines().filter(|l| l.starts_with("goroutine ")) {
        let Some(state) = line
            .split_once('[')
            .and_then(|(_, r)| r.split([',', ']']).next())
        else {
            continue;
        };
        *by.entry(state).or_default() += 1;
    }
    by
}
