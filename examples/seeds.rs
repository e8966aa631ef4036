//! Goroutine twins of the Go programs in the seed documents (the Go
//! tutorials and guides goro was built from; each twin carries its Go
//! program): `cargo run --release --example seeds [doc ...]`
//! runs the twins of the named documents (default: all, in seed order),
//! each under its own `goro::run` as each Go program is its own process,
//! and prints what the Go programs print. `examples/seeds/run_go.py` runs
//! the Go programs themselves with the same headers, for comparison.
//!
//! The twins live in `seeds/<doc>.rs`, one function per Go program with the
//! complete Go source in its doc comment, shared with `tests/seeds.rs`;
//! their durations are a fifth of Go's (see `seeds/harness.rs`).

#[macro_use]
#[path = "seeds/harness.rs"]
mod harness;
#[path = "seeds/chapter8.rs"]
mod chapter8;
#[path = "seeds/deep_dive.rs"]
mod deep_dive;
#[path = "seeds/guide.rs"]
mod guide;
#[path = "seeds/patterns.rs"]
mod patterns;
#[path = "seeds/python_compare.rs"]
mod python_compare;

use harness::Twin;

/// Each document's name (its `seeds/<doc>.rs`) and twins, in seed order.
const DOCS: &[(&str, &[Twin])] = &[
    ("python_compare", python_compare::TWINS),
    ("chapter8", chapter8::TWINS),
    ("deep_dive", deep_dive::TWINS),
    ("patterns", patterns::TWINS),
    ("guide", guide::TWINS),
];

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    for name in &wanted {
        if !DOCS.iter().any(|(doc, _)| doc == name) {
            let known: Vec<&str> = DOCS.iter().map(|(doc, _)| *doc).collect();
            eprintln!("unknown seed document {name:?}; known: {known:?}");
            std::process::exit(2);
        }
    }
    for (doc, twins) in DOCS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == doc) {
            continue;
        }
        println!("##### {doc}");
        for twin in *twins {
            println!("=== {}", twin.name);
            goro::run(twin.program(true));
        }
    }
}
