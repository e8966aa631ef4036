//! PUBLISH/SUBSCRIBE: a broker from channel names to subscribers' outboxes.
//!
//! Every subscribed connection owns an outbox, a bounded goro channel of
//! encoded frames, and a writer goroutine that drains it into the socket
//! (`connection.rs`): a goroutine and a channel per subscriber, as in Go.
//! `publish` encodes the `message` frame once, clones the list of outboxes
//! under the read lock, drops the lock and sends the frame to each: a full
//! outbox parks the publisher until that subscriber's writer catches up,
//! so no message is lost and no lock is held while waiting.

use std::collections::HashMap;
use std::sync::Arc;

use goro::sync::RwLock;
use goro::Sender;

use super::resp;

/// Frames waiting for one subscriber's writer goroutine.
pub type Outbox = Sender<Arc<[u8]>>;

/// Frames an outbox holds before publishers wait.
pub const OUTBOX_FRAMES: usize = 1024;

/// Channel name -> (connection id, its outbox).
type Subscribers = HashMap<Vec<u8>, Vec<(u64, Outbox)>>;

#[derive(Default)]
pub struct Broker {
    /// Invariant: no empty lists, and a connection appears at most once
    /// per channel.
    channels: RwLock<Subscribers>,
}

impl Broker {
    /// Adds connection `id` to `channel`'s subscribers (a repeat is a no-op).
    pub fn subscribe(&self, channel: &[u8], id: u64, outbox: &Outbox) {
        let mut channels = self.channels.write();
        let subs = channels.entry(channel.to_vec()).or_default();
        if !subs.iter().any(|(i, _)| *i == id) {
            subs.push((id, outbox.clone()));
        }
    }

    /// Removes connection `id` from `channel`'s subscribers.
    pub fn unsubscribe(&self, channel: &[u8], id: u64) {
        let mut channels = self.channels.write();
        if let Some(subs) = channels.get_mut(channel) {
            subs.retain(|(i, _)| *i != id);
            if subs.is_empty() {
                channels.remove(channel);
            }
        }
    }

    /// Sends `payload` to every subscriber of `channel`; how many got it.
    pub fn publish(&self, channel: &[u8], payload: &[u8]) -> usize {
        let targets: Vec<Outbox> = match self.channels.read().get(channel) {
            Some(subs) => subs.iter().map(|(_, o)| o.clone()).collect(),
            None => return 0,
        };
        let mut frame = Vec::with_capacity(32 + channel.len() + payload.len());
        resp::write_array_len(&mut frame, 3);
        resp::write_bulk(&mut frame, b"message");
        resp::write_bulk(&mut frame, channel);
        resp::write_bulk(&mut frame, payload);
        let frame: Arc<[u8]> = frame.into();
        // A send fails only when that subscriber's writer has gone (its
        // client left between the clone and now): not delivered.
        targets
            .iter()
            .filter(|o| o.send(frame.clone()).is_ok())
            .count()
    }

    /// Channels with at least one subscriber.
    pub fn channel_count(&self) -> usize {
        self.channels.read().len()
    }
}
