//! `select!`: Go's `select` statement with crossbeam-channel's syntax.
//!
//! ```ignore
//! goro::select! {
//!     recv(rx) -> msg => { ... },          // msg: Result<T, RecvError>
//!     send(tx, value) -> res => { ... },   // res: Result<(), SendError<T>>
//!     recv(rx2) -> msg, if ready => { ... },  // a guarded case (Tokio's shape)
//!     default => { ... },                  // or default(timeout) => ...
//! }
//! ```
//!
//! crossbeam's spellings are all accepted: `default() =>`, and a trailing
//! comma inside any arm's parentheses (`recv(r,)`, `send(s, v,)`,
//! `default(d,)`).
//!
//! A guard `, if cond` switches its case off when false: the case is never
//! chosen, as Go's case on a nil channel, and a select whose cases are all
//! off (and that has no `default`) blocks forever. Evaluation order: every
//! channel expression is evaluated (as Go evaluates every case's channel),
//! each guard right after its channel, and a send's value only when its
//! guard holds: a guarded-off value is neither evaluated nor moved.
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
/// completes; see the module docs of `goro::chan`.
///
/// - `recv(rx) -> pat => body`: `pat` binds `Result<T, RecvError>`.
/// - `send(tx, value) -> pat => body`: `pat` binds
///   `Result<(), SendError<T>>` (the value comes back if the channel is
///   closed).
/// - `default => body`: runs when no case is ready right now.
/// - `default(timeout) => body`: runs when no case became ready in `timeout`.
/// - `recv(rx) -> pat, if guard => body` (and the same for `send`): the case
///   takes part only when `guard` is true; a false guard leaves the send's
///   value unevaluated.
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
    // recv(rx) -> pat [, if guard] => body
    ($cases:tt $default:tt recv($rx:expr $(,)?) -> $p:pat $(, if $g:expr)? => $($rest:tt)*) => {
        $crate::__select_body!($cases $default [recv($rx) ($($g)?) $p] $($rest)*)
    };
    // send(tx, value) -> pat [, if guard] => body
    ($cases:tt $default:tt send($tx:expr, $v:expr $(,)?) -> $p:pat $(, if $g:expr)? => $($rest:tt)*) => {
        $crate::__select_body!($cases $default [send($tx, $v) ($($g)?) $p] $($rest)*)
    };
    // default / default() / default(timeout)
    ($cases:tt () default $(())? => $($rest:tt)*) => {
        $crate::__select_body!($cases () [now] $($rest)*)
    };
    ($cases:tt () default($t:expr $(,)?) => $($rest:tt)*) => {
        $crate::__select_body!($cases () [after($t)] $($rest)*)
    };
    ($cases:tt ($($default:tt)+) default $($rest:tt)*) => {
        ::core::compile_error!("goro::select!: more than one `default` arm")
    };
    ($cases:tt $default:tt $($rest:tt)+) => {
        ::core::compile_error!(
            "goro::select!: expected `recv(rx) -> pat => body`, `send(tx, value) -> pat => body` \
             (either optionally with `, if guard` before `=>`), `default => body` or \
             `default(timeout) => body`"
        )
    };
}

/// Parses one arm's body (a block, or an expression ending the arm at a
/// comma or at the end), files the arm and goes on parsing.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_body {
    ($cases:tt $default:tt [$($arm:tt)*] $body:block $($rest:tt)*) => {
        $crate::__select_file!($cases $default [$($arm)*] $body; $($rest)*)
    };
    ($cases:tt $default:tt [$($arm:tt)*] $body:expr, $($rest:tt)*) => {
        $crate::__select_file!($cases $default [$($arm)*] $body; $($rest)*)
    };
    ($cases:tt $default:tt [$($arm:tt)*] $body:expr) => {
        $crate::__select_file!($cases $default [$($arm)*] $body;)
    };
}

/// Files a parsed arm: a case, or the default.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_file {
    ($cases:tt () [now] $body:expr; $($rest:tt)*) => {
        $crate::__select_parse!($cases (now => $body) $($rest)*)
    };
    ($cases:tt () [after($t:expr)] $body:expr; $($rest:tt)*) => {
        $crate::__select_parse!($cases (after($t) => $body) $($rest)*)
    };
    (($($cases:tt)*) $default:tt [$kind:ident $args:tt $guard:tt $p:pat] $body:expr; $($rest:tt)*) => {
        $crate::__select_parse!(($($cases)* [$kind $args $guard $p => $body]) $default $($rest)*)
    };
}

/// Gives each case a fresh identifier and its constructor, then expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_emit {
    (($($done:tt)*) ([recv($rx:expr) () $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        $crate::__select_emit!(
            ($($done)* [case ($crate::chan::RecvCase::new(&$rx)) $p => $body])
            ($($rest)*) $default
        )
    };
    (($($done:tt)*) ([recv($rx:expr) ($g:expr) $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        $crate::__select_emit!(
            ($($done)* [case (
                $crate::chan::Guarded::<$crate::chan::RecvCase<_>>::recv(&$rx, $g)
            ) $p => $body])
            ($($rest)*) $default
        )
    };
    (($($done:tt)*) ([send($tx:expr, $v:expr) () $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        $crate::__select_emit!(
            ($($done)* [case ($crate::chan::SendCase::new(&$tx, $v)) $p => $body])
            ($($rest)*) $default
        )
    };
    (($($done:tt)*) ([send($tx:expr, $v:expr) ($g:expr) $p:pat => $body:expr] $($rest:tt)*) $default:tt) => {
        $crate::__select_emit!(
            ($($done)* [case (
                $crate::chan::Guarded::<$crate::chan::SendCase<_>>::send(
                    &$tx,
                    if $g { ::core::option::Option::Some($v) } else { ::core::option::Option::None },
                )
            ) $p => $body])
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
