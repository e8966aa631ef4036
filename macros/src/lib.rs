//! `#[goro::main]` and `#[goro::test]`: the attributes that make a plain
//! function the main goroutine of a fresh goro runtime, so binaries and
//! tests read like Tokio's. Re-exported by `goro` (default feature
//! `macros`); the code they generate calls `goro::__private`, never this
//! crate, so it compiles in any crate that depends on `goro`.
//!
//! Each attribute keeps the function's signature (name, return type,
//! attributes, doc comments) and moves its body into a closure that
//! `goro::run` (or the test runner `goro::__private::run_test`) runs as the
//! main goroutine; `return` inside the body returns from that closure, so
//! `fn main() -> Result<..>` and `?` work unchanged.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Error, Expr, ItemFn, Lit, Meta, ReturnType, Token};

/// Runs `fn main` as the main goroutine of a goro runtime with the default
/// configuration: `#[goro::main] fn main() { .. }` is
/// `fn main() { goro::run(|| { .. }) }`. `main` may return a value
/// (`Result<(), E>`, as with std).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Main).unwrap_or_else(|e| e.to_compile_error().into())
}

/// A `#[test]` whose body runs as the main goroutine of a fresh goro
/// runtime. `#[goro::test(procs = 2)]` sets its GOMAXPROCS.
///
/// The test fails, as `go test` does, when any goroutine of its runtime
/// panicked before the body returned, whether or not it was joined; the
/// panics' reports are on stderr.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Test).unwrap_or_else(|e| e.to_compile_error().into())
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[goro::main]",
            Kind::Test => "#[goro::test]",
        }
    }
}

fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> syn::Result<TokenStream> {
    let procs = parse_args(args.into(), kind)?;
    let f: ItemFn = syn::parse(item)?;
    check_signature(&f, kind)?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = f;
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let body_span = block.span();
    let run = match kind {
        Kind::Main => quote_spanned! {body_span=>
            ::goro::run(move || -> #output #block)
        },
        Kind::Test => {
            let procs = match procs {
                Some(n) => quote!(::core::option::Option::Some(#n)),
                None => quote!(::core::option::Option::None),
            };
            quote_spanned! {body_span=>
                ::goro::__private::run_test(#procs, move || -> #output #block)
            }
        }
    };
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #run
        }
    }
    .into())
}

/// `procs = N` (tests only); nothing else is accepted.
fn parse_args(args: proc_macro2::TokenStream, kind: Kind) -> syn::Result<Option<usize>> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut procs = None;
    for meta in metas {
        let nv = match &meta {
            Meta::NameValue(nv) if kind == Kind::Test && nv.path.is_ident("procs") => nv,
            _ => {
                let msg = match kind {
                    Kind::Test => "unknown argument: #[goro::test] takes `procs = N` (GOMAXPROCS)",
                    Kind::Main => "#[goro::main] takes no arguments (set GOMAXPROCS in the environment, or use goro::Runtime::builder())",
                };
                return Err(Error::new(meta.span(), msg));
            }
        };
        if procs.is_some() {
            return Err(Error::new(nv.span(), "`procs` given twice"));
        }
        let n = match &nv.value {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<usize>()?,
                other => {
                    return Err(Error::new(
                        other.span(),
                        "`procs` takes an integer, e.g. `procs = 2`",
                    ))
                }
            },
            other => {
                return Err(Error::new(
                    other.span(),
                    "`procs` takes an integer literal, e.g. `procs = 2`",
                ))
            }
        };
        if n == 0 {
            return Err(Error::new(nv.value.span(), "`procs` must be at least 1"));
        }
        procs = Some(n);
    }
    Ok(procs)
}

fn check_signature(f: &ItemFn, kind: Kind) -> syn::Result<()> {
    let sig = &f.sig;
    if let Some(a) = &sig.asyncness {
        return Err(Error::new(
            a.span(),
            format!(
                "{} takes a plain `fn`: goroutines block instead of awaiting (use goro::block_on inside for a future)",
                kind.name()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(Error::new(
            sig.inputs.span(),
            format!("{} functions take no arguments", kind.name()),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(Error::new(
            sig.generics.span(),
            format!("{} functions cannot be generic", kind.name()),
        ));
    }
    if kind == Kind::Main && sig.ident != "main" {
        return Err(Error::new(
            Span::call_site(),
            "#[goro::main] goes on `fn main`",
        ));
    }
    Ok(())
}
