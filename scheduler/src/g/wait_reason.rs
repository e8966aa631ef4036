//! Why a goroutine is parked: Go's `waitReason`, shown in goroutine dumps
//! (`goroutine 7 [chan receive]:`), schedtrace detail and traces.

/// Why a goroutine is parked (Go's `waitReason`, shown in goroutine dumps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// Not waiting (running, runnable, or not started).
    None,
    /// `chan receive`: in `recv` on a channel.
    ChanReceive,
    /// `chan send`: in `send` on a channel.
    ChanSend,
    /// `chan receive (nil chan)`: receiving from a channel that never delivers.
    ChanReceiveNilChan,
    /// `select`: in a `select!` with cases.
    Select,
    /// `select (no cases)`: in a `select!` without cases (blocks forever).
    SelectNoCases,
    /// `sleep`: in `time::sleep` or a timer wait.
    Sleep,
    /// `sync.Mutex.Lock`: waiting for a `Mutex`.
    SyncMutexLock,
    /// `sync.RWMutex.RLock`: waiting to read an `RwLock`.
    SyncRwLockRead,
    /// `sync.RWMutex.Lock`: waiting to write an `RwLock`.
    SyncRwLockWrite,
    /// `sync.WaitGroup.Wait`: in `WaitGroup::wait`.
    SyncWaitGroupWait,
    /// `sync.Cond.Wait`: in `Cond::wait`.
    SyncCondWait,
    /// `semacquire`: waiting for a semaphore (`Once`, errgroup limits).
    Semacquire,
    /// `IO wait`: waiting for a socket to become ready (the netpoller).
    IoWait,
    /// `join`: in `JoinHandle::join`.
    JoinHandle,
    /// `syscall`: a `blocking` call runs on a helper thread for it.
    Blocking,
    /// In `block_on`: waiting for a future's `Waker`.
    Future,
    /// `chan receive (durable)`: in `recv` on a channel of the goroutine's
    /// synctest bubble (Go's wording).
    ChanReceiveDurable,
    /// `chan send (durable)`: in `send` on a channel of its bubble.
    ChanSendDurable,
    /// `select (durable)`: in a `select!` whose channels are all of its bubble.
    SelectDurable,
    /// `join (durable)`: joining a goroutine of its own bubble.
    JoinHandleDurable,
    /// `synctest.Run`: waiting for a bubble (`synctest::run`) to end.
    SynctestRun,
    /// `synctest.Wait`: in `synctest::wait`.
    SynctestWait,
}

impl WaitReason {
    const ALL: [WaitReason; 23] = [
        WaitReason::None,
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::ChanReceiveNilChan,
        WaitReason::Select,
        WaitReason::SelectNoCases,
        WaitReason::Sleep,
        WaitReason::SyncMutexLock,
        WaitReason::SyncRwLockRead,
        WaitReason::SyncRwLockWrite,
        WaitReason::SyncWaitGroupWait,
        WaitReason::SyncCondWait,
        WaitReason::Semacquire,
        WaitReason::IoWait,
        WaitReason::JoinHandle,
        WaitReason::Blocking,
        WaitReason::Future,
        WaitReason::ChanReceiveDurable,
        WaitReason::ChanSendDurable,
        WaitReason::SelectDurable,
        WaitReason::JoinHandleDurable,
        WaitReason::SynctestRun,
        WaitReason::SynctestWait,
    ];

    /// The reason stored as `reason as u8` (unknown values read as `None`).
    pub(crate) fn from_u8(v: u8) -> WaitReason {
        Self::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(WaitReason::None)
    }

    /// The text Go prints in a goroutine header, e.g. `chan receive`.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::ChanReceiveNilChan => "chan receive (nil chan)",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::Sleep => "sleep",
            WaitReason::SyncMutexLock => "sync.Mutex.Lock",
            WaitReason::SyncRwLockRead => "sync.RWMutex.RLock",
            WaitReason::SyncRwLockWrite => "sync.RWMutex.Lock",
            WaitReason::SyncWaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::SyncCondWait => "sync.Cond.Wait",
            WaitReason::Semacquire => "semacquire",
            WaitReason::IoWait => "IO wait",
            WaitReason::JoinHandle => "join",
            WaitReason::Blocking => "syscall",
            WaitReason::Future => "future",
            WaitReason::ChanReceiveDurable => "chan receive (durable)",
            WaitReason::ChanSendDurable => "chan send (durable)",
            WaitReason::SelectDurable => "select (durable)",
            WaitReason::JoinHandleDurable => "join (durable)",
            WaitReason::SynctestRun => "synctest.Run",
            WaitReason::SynctestWait => "synctest.Wait",
        }
    }

    /// Whether no goroutine running on another M can ready a goroutine
    /// parked for this reason: only the network poller (I/O), its own
    /// M's timers (sleeps), or nothing at all (a nil channel, an empty
    /// select). Its M need not watch its home queue for it
    /// (`MLocal::await_home_work`).
    pub fn is_quiet(self) -> bool {
        matches!(
            self,
            WaitReason::IoWait
                | WaitReason::Sleep
                | WaitReason::ChanReceiveNilChan
                | WaitReason::SelectNoCases
        )
    }

    /// Whether a goroutine of a synctest bubble parked for this reason is
    /// durably blocked: only another goroutine of its bubble (or the
    /// bubble's clock) can wake it. Channels, selects and joins say so in
    /// their reason (the `(durable)` ones: the channel was made in, or the
    /// goroutine belongs to, the same bubble); sleeps and sync primitives
    /// always are; I/O, `blocking` calls and futures never are, as in Go.
    pub fn is_durable(self) -> bool {
        matches!(
            self,
            WaitReason::ChanReceiveDurable
                | WaitReason::ChanSendDurable
                | WaitReason::SelectDurable
                | WaitReason::JoinHandleDurable
                | WaitReason::SynctestWait
                | WaitReason::ChanReceiveNilChan
                | WaitReason::SelectNoCases
                | WaitReason::Sleep
                | WaitReason::SyncMutexLock
                | WaitReason::SyncRwLockRead
                | WaitReason::SyncRwLockWrite
                | WaitReason::SyncWaitGroupWait
                | WaitReason::SyncCondWait
                | WaitReason::Semacquire
        )
    }
}

#[cfg(test)]
mod tests {
    use super::WaitReason;

    #[test]
    fn wait_reasons_round_trip_through_u8() {
        for r in WaitReason::ALL {
            assert_eq!(WaitReason::from_u8(r as u8), r);
        }
        assert_eq!(WaitReason::from_u8(u8::MAX), WaitReason::None);
    }
}
