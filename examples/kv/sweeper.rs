//! The sweeper goroutine: removes expired keys nobody reads (active
//! expiry; reads expire keys lazily, `db.rs`). A `goro::time::Ticker`
//! paces it; it stops when the server's context is done.

use std::sync::Arc;
use std::time::Instant;

use goro::context::Context;
use goro::time::Ticker;

use super::server::Server;

pub fn run(server: Arc<Server>, ctx: Context) {
    let ticker = Ticker::new(server.config.sweep_every);
    let done = ctx.done();
    loop {
        goro::select! {
            recv(done) -> _ => return,
            recv(ticker.chan()) -> _ => {
                server.db.sweep(Instant::now());
            },
        }
    }
}
