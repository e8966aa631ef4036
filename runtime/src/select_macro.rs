//! `select!`: Go's `select` statement with crossbeam-channel's syntax.
//!
//! ```ignore
//! goro::select! {
//!     recv(rx) -> msg => { ... },          // msg: Result<T, RecvError>
//!     send(tx, value) -> res => { ... },   // res: Result<(), SendError<T>>
//!     default => { ... },                  // or default(timeout) => ...
//! }
//! ```
//!
//! The macro parses the cases (a tt-muncher, so any number of them), then
//! evaluates every channel and value expression once, in source order, as
//! the scrutinee of one `match` (so temporaries such as
//! `recv(goro::time::after(d))` live through the whole select), builds one
//! case object per arm, runs `chan::select` over them, and dispatches on the
//! index of the case that completed. Each case object gets its own
//! identifier by hygiene: every muncher step introduces a `case` binding
//! with that step's syntax context.

/// Waits on several channel operations and runs the arm of the one that
/// completes; see the module docs of `goro::chan` and `shared/API.md`.
///
/// - `recv(rx) -> pat => body`: `pat` binds `Result<T, RecvError>`.
/// - `send(tx, value) -> pat => body`: `pat` binds
///   `Result<(), SendError<T>>` (the value comes back if the channel is
///   closed).
/// - `default => body`: runs when no case is ready right now.
/// - `default(timeout) => body`: runs when no case became ready in `timeout`.
///
/// When several cases are ready, one is chosen uniformly at random. With no
/// case and no default, `select! {}` blocks forever, as Go's `select {}`.
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(() () $($tokens)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // All parsed.
    (($($cases:tt)*) $default:tt) => {
        $crate::__select_emit!(() ($($cases)*) $default)
    };
    // Separators between arms.
    ($cases:tt $default:tt , $($rest:tt)*) => {
        $crate::__select_parse!($cases $default $($rest)*)
    };
    // recv(rx) -> pat => body
    (($($cases:tt)*) $default:tt recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($cases)* [recv($rx) $p => $body]) $default $($rest)*)
    };
    (($($cases:tt)*) $default:tt recv($rx:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($cases)* [recv($rx) $p => $body]) $default $($rest)*)
    };
    (($($cases:tt)*) $default:tt recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(($($cases)* [recv($rx) $p => $body]) $default)
    };
    // send(tx, value) -> pat => body
    (($($cases:tt)*) $default:tt send($tx:expr, $v:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($cases)* [send($tx, $v) $p => $body]) $default $($rest)*)
    };
    (($($cases:tt)*) $default:tt send($tx:expr, $v:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($cases)* [send($tx, $v) $p => $body]) $default $($rest)*)
    };
    (($($cases:tt)*) $default:tt send($tx:expr, $v:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(($($cases)* [send($tx, $v) $p => $body]) $default)
    };
    // default / default(timeout)
    ($cases:tt () default => $body:block $($rest:tt)*) => {
        $crate::__select_parse!($cases (now => $body) $($rest)*)
    };
    ($cases:tt () default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!($cases (now => $body) $($rest)*)
    };
    ($cases:tt () default => $body:expr) => {
        $crate::__select_parse!($cases (now => $body))
    };
    ($cases:tt () default($t:expr) => $body:block $($rest:tt)*) => {
        $crate::__select_parse!($cases (after($t) => $body) $($rest)*)
    };
    ($cases:tt () default($t:expr) => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!($cases (after($t) => $body) $($rest)*)
    };
    ($cases:tt () default($t:expr) => $body:expr) => {
        $crate::__select_parse!($cases (after($t) => $body))
    };
    ($cases:tt ($($default:tt)+) default $($rest:tt)*) => {
        ::core::compile_error!("goro::select!: more than one `default` arm")
    };
    ($cases:tt $default:tt $($rest:tt)+) => {
        ::core::compile_error!(
            "goro::select!: expected `recv(rx) -> pat => body`, `send(tx, value) -> pat => body`, \
             `default => body` or `default(timeout) => body`"
        )
    };
}

/// Gives each case a fresh identifier and its constructor, then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_emit {
    (($($done:tt)*) ([recv($rx:expr) $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        $crate::__select_emit!(
            ($($done)* [case ($crate::chan::RecvCase::new(&$rx)) $p => $body])
            ($($rest)*) $default
        )
    };
    (($($done:tt)*) ([send($tx:expr, $v:expr) $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        $crate::__select_emit!(
            ($($done)* [case ($crate::chan::SendCase::new(&$tx, $v)) $p => $body])
            ($($rest)*) $default
        )
    };
    (($([$case:ident ($make:expr) $p:pat => $body:expr])*) () $default:tt) => {
        match ($($make,)*) {
            ($(mut $case,)*) => {
                let cases: &mut [&mut dyn $crate::chan::SelectCase] =
                    &mut [$(&mut $case),*];
                let won = $crate::__select_run!(cases $default);
                $crate::__select_dispatch!(won, 0usize, ($([$case $p => $body])*) $default)
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_run {
    ($cases:ident ()) => {
        $crate::chan::select($cases, false)
    };
    ($cases:ident (now => $body:expr)) => {
        $crate::chan::select($cases, true)
    };
    ($cases:ident (after($t:expr) => $body:expr)) => {
        $crate::chan::select_timeout($cases, $t)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_dispatch {
    ($won:ident, $i:expr, ([$case:ident $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        if $won == ::core::option::Option::Some($i) {
            let $p = $case.into_result();
            $body
        } else {
            $crate::__select_dispatch!($won, $i + 1usize, ($($rest)*) $default)
        }
    };
    ($won:ident, $i:expr, () ()) => {
        ::core::unreachable!("goro::select!: no case completed")
    };
    ($won:ident, $i:expr, () ($kind:ident $(($t:expr))? => $body:expr)) => {
        $body
    };
}
