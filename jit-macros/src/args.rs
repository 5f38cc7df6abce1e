//! The arguments of `#[lifted_jit(...)]`, parsed with darling.
//!
//! Parsing only checks the shape of each value; what the values mean for the item (indices in range, names that
//! exist, backends that exist) is checked in `validate`, so that every error of one attribute is reported together.

use darling::ast::NestedMeta;
use darling::{Error, FromMeta, Result};
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, LitStr, Meta};

use crate::filter::Filter;

/// Everything `#[lifted_jit(...)]` accepts; every key is optional.
#[derive(Debug, Default, FromMeta)]
pub struct Args {
    /// Which variable collections are lifted (default: all).
    pub variables: Option<Filter>,
    /// Which PRNG streams are lifted (default: all).
    pub rngs: Option<Filter>,
    /// Parameters that are compile-time constants, by position (the receiver is 0).
    pub static_argnums: Option<Indices>,
    /// Parameters that are compile-time constants, by name.
    pub static_argnames: Option<Names>,
    /// Parameters whose buffers may be reused for outputs, by position.
    pub donate_argnums: Option<Indices>,
    /// Parameters whose buffers may be reused for outputs, by name.
    pub donate_argnames: Option<Names>,
    /// `"cpu"`, `"gpu"`, `"cuda"` or `"interpreter"`.
    pub backend: Option<LitStr>,
    /// `"cpu"`, `"cpu:0"`, `"cuda:0"`, `"gpu:1"`.
    pub device: Option<LitStr>,
    /// Which methods of the impl block are jitted (default: every method with a receiver).
    pub methods: Option<Methods>,
    /// The path of the facade crate in generated code (default `::lifted_jit`).
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
}

impl Args {
    /// Parses the attribute's tokens. On errors, also returns the arguments that parsed on their own (the first of
    /// each key), so that validation can still report its errors next to the parse errors.
    pub fn parse(tokens: TokenStream) -> (Args, Option<Error>) {
        let items = match NestedMeta::parse_meta_list(tokens) {
            Ok(items) => items,
            Err(e) => return (Args::default(), Some(e.into())),
        };
        match Args::from_list(&items) {
            Ok(args) => (args, None),
            Err(e) => {
                let mut seen = Vec::new();
                let mut good = Vec::new();
                for item in &items {
                    let NestedMeta::Meta(meta) = item else { continue };
                    let key = meta.path().clone();
                    if Args::from_list(std::slice::from_ref(item)).is_ok() && !seen.contains(&key) {
                        seen.push(key);
                        good.push(item.clone());
                    }
                }
                (Args::from_list(&good).unwrap_or_default(), Some(e))
            }
        }
    }
}

/// A parameter position written in the attribute, with the literal's span for errors.
#[derive(Clone, Copy, Debug)]
pub struct Index {
    /// The position (the receiver or module parameter is 0).
    pub value: usize,
    /// The literal.
    pub span: Span,
}

/// `3` or `[2, 3]`.
#[derive(Clone, Debug, Default)]
pub struct Indices(pub Vec<Index>);

impl FromMeta for Indices {
    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Array(array) => {
                let mut errors = Error::accumulator();
                let indices = array.elems.iter().filter_map(|elem| errors.handle(index(elem))).collect();
                errors.finish_with(Indices(indices))
            }
            _ => index(expr).map(|i| Indices(vec![i])),
        }
    }
}

fn index(expr: &Expr) -> Result<Index> {
    match expr {
        Expr::Group(group) => index(&group.expr),
        Expr::Lit(syn::ExprLit { lit: Lit::Int(int), .. }) => match int.base10_parse::<usize>() {
            Ok(value) => Ok(Index { value, span: int.span() }),
            Err(e) => Err(Error::from(e)),
        },
        _ => Err(Error::custom("expected a parameter position: an integer such as `2`, or a list such as `[2, 3]`")
            .with_span(expr)),
    }
}

/// A parameter name written in the attribute, with its literal for errors.
#[derive(Clone, Debug)]
pub struct Name {
    /// The name.
    pub value: String,
    /// The string literal.
    pub span: Span,
}

/// `"train"` or `["train", "mode"]`.
#[derive(Clone, Debug, Default)]
pub struct Names(pub Vec<Name>);

impl FromMeta for Names {
    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Array(array) => {
                let mut errors = Error::accumulator();
                let names = array.elems.iter().filter_map(|elem| errors.handle(name(elem))).collect();
                errors.finish_with(Names(names))
            }
            _ => name(expr).map(|n| Names(vec![n])),
        }
    }
}

fn name(expr: &Expr) -> Result<Name> {
    match expr {
        Expr::Group(group) => name(&group.expr),
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Ok(Name { value: s.value(), span: s.span() }),
        _ => Err(Error::custom(
            "expected a parameter name in quotes such as `\"train\"`, or a list such as `[\"train\", \"mode\"]`",
        )
        .with_span(expr)),
    }
}

/// `[forward, loss]` (also `forward` alone, or `methods(forward, loss)`).
#[derive(Clone, Debug, Default)]
pub struct Methods(pub Vec<Ident>);

const METHODS_EXPECTED: &str = "expected method names: `methods = [forward, loss]`";

fn method(expr: &Expr) -> Result<Ident> {
    match expr {
        Expr::Group(group) => method(&group.expr),
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => match p.path.get_ident() {
            Some(ident) => Ok(ident.clone()),
            None => Err(Error::custom(METHODS_EXPECTED).with_span(expr)),
        },
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => {
            Err(Error::custom(format!("{METHODS_EXPECTED}; write the name without quotes: `{}`", s.value()))
                .with_span(expr))
        }
        _ => Err(Error::custom(METHODS_EXPECTED).with_span(expr)),
    }
}

impl FromMeta for Methods {
    fn from_list(items: &[NestedMeta]) -> Result<Self> {
        let mut errors = Error::accumulator();
        let mut methods = Vec::new();
        for item in items {
            match item {
                NestedMeta::Meta(Meta::Path(path)) if path.get_ident().is_some() => {
                    methods.extend(path.get_ident().cloned());
                }
                other => errors.push(Error::custom(METHODS_EXPECTED).with_span(&other.span())),
            }
        }
        errors.finish_with(Methods(methods))
    }

    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Array(array) => {
                let mut errors = Error::accumulator();
                let methods = array.elems.iter().filter_map(|elem| errors.handle(method(elem))).collect();
                errors.finish_with(Methods(methods))
            }
            _ => method(expr).map(|m| Methods(vec![m])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn messages(e: Option<Error>) -> Vec<String> {
        e.map(|e| e.into_iter().map(|e| e.to_string()).collect()).unwrap_or_default()
    }

    #[test]
    fn every_key() {
        let (args, err) = Args::parse(quote!(
            variables = deny("intermediates"),
            rngs = ["dropout"],
            static_argnums = [3, 4],
            static_argnames = "train",
            donate_argnums = 2,
            donate_argnames = ["state"],
            backend = "cpu",
            device = "cpu:0",
            methods = [forward, loss],
            crate = "my_facade"
        ));
        assert!(err.is_none(), "{:?}", messages(err));
        assert_eq!(args.variables, Some(Filter::Deny(vec!["intermediates".into()])));
        assert_eq!(args.rngs, Some(Filter::Only(vec!["dropout".into()])));
        assert_eq!(args.static_argnums.map(|i| i.0.iter().map(|i| i.value).collect::<Vec<_>>()), Some(vec![3, 4]));
        assert_eq!(args.static_argnames.map(|n| n.0.len()), Some(1));
        assert_eq!(args.donate_argnums.map(|i| i.0.len()), Some(1));
        assert_eq!(
            args.methods.map(|m| m.0.iter().map(|i| i.to_string()).collect::<Vec<_>>()),
            Some(vec!["forward".to_string(), "loss".to_string()])
        );
        assert!(args.krate.is_some_and(|p| p.is_ident("my_facade")));
    }

    #[test]
    fn empty() {
        let (args, err) = Args::parse(TokenStream::new());
        assert!(err.is_none());
        assert!(args.variables.is_none() && args.methods.is_none());
    }

    #[test]
    fn errors_are_accumulated_and_good_keys_kept() {
        let (args, err) = Args::parse(quote!(
            varibles = true,
            rngs = 3,
            static_argnums = ["x"],
            backend = "cpu",
            backend = "gpu",
            methods = [forward]
        ));
        let messages = messages(err);
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert!(messages[0].contains("Did you mean `variables`?"), "{messages:#?}");
        assert!(messages.iter().any(|m| m.contains("Duplicate field `backend`")), "{messages:#?}");
        // The keys that parsed alone survive, for validation.
        assert_eq!(args.backend.map(|b| b.value()), Some("cpu".to_string()));
        assert!(args.methods.is_some());
        assert!(args.rngs.is_none());
    }
}
