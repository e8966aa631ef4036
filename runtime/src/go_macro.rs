//! `go!`: Go's `go` statement.
//!
//! `go!(f(a, b))` evaluates `f`, `a` and `b` now, in the caller, and runs
//! the call in a new goroutine, exactly like Go's `go f(a, b)`; so does
//! `go!(recv.method(a))` for the receiver. `go!(move || ...)` and
//! `go!(closure_value)` run a closure. Each form returns a `JoinHandle`.
//!
//! Arguments are bound one by one by a recursive rule; macro hygiene gives
//! each level's `arg` binding its own identity, so any number of arguments
//! works without generated names.

/// Starts a goroutine: `go!(f(a, b))`, `go!(x.method(a))`, `go!(move || ...)`.
///
/// Panics outside a running runtime (use `goro::run`), and when no stack
/// can be had (see `goro::try_go` for the fallible form).
#[macro_export]
macro_rules! go {
    (move | $($rest:tt)*) => {
        $crate::__private::go(move | $($rest)*)
    };
    (| $($rest:tt)*) => {
        $crate::__private::go(| $($rest)*)
    };
    (move || $($rest:tt)*) => {
        $crate::__private::go(move || $($rest)*)
    };
    (|| $($rest:tt)*) => {
        $crate::__private::go(|| $($rest)*)
    };
    ($recv:ident . $method:ident ( $($arg:expr),* $(,)? )) => {{
        let recv = $recv;
        $crate::__go_bind!(@method recv $method; (); $($arg),*)
    }};
    ($($func:ident)::+ ( $($arg:expr),* $(,)? )) => {{
        let func = $($func)::+;
        $crate::__go_bind!(@func func; (); $($arg),*)
    }};
    ($closure:expr) => {
        $crate::__private::go($closure)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __go_bind {
    (@$kind:ident $target:ident $($method:ident)?; ($($bound:ident)*); $head:expr $(, $rest:expr)*) => {{
        let arg = $head;
        $crate::__go_bind!(@$kind $target $($method)?; ($($bound)* arg); $($rest),*)
    }};
    (@func $func:ident; ($($bound:ident)*);) => {
        $crate::__private::go(move || $func($($bound),*))
    };
    (@method $recv:ident $method:ident; ($($bound:ident)*);) => {
        $crate::__private::go(move || $recv.$method($($bound),*))
    };
}
