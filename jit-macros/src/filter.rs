//! The filter grammar shared by `variables` and `rngs`: which variable collections or PRNG streams are lifted.

use darling::ast::NestedMeta;
use darling::{Error, FromMeta, Result};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, Lit, Meta};

/// What a filter written in the attribute selects (Flax's `CollectionFilter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// `true`: every collection or stream.
    All,
    /// `false`: none.
    Nothing,
    /// `"params"` or `["params", "batch_stats"]`: exactly these.
    Only(Vec<String>),
    /// `deny("intermediates")` or `deny(["a", "b"])`: all but these.
    Deny(Vec<String>),
}

const EXPECTED: &str = "expected a filter: `true`, `false`, a name (`\"params\"`), a list of names \
                        (`[\"params\", \"batch_stats\"]`) or `deny(...)` of a name or list";

impl Filter {
    /// The runtime value of this filter, as an expression under `krate::__private`.
    pub fn to_tokens(&self, krate: &syn::Path) -> TokenStream {
        match self {
            Filter::All => quote!(#krate::__private::Filter::All),
            Filter::Nothing => quote!(#krate::__private::Filter::Nothing),
            Filter::Only(names) => quote!(#krate::__private::Filter::only(&[#(#names),*])),
            Filter::Deny(names) => quote!(#krate::__private::Filter::deny(&[#(#names),*])),
        }
    }
}

/// One name, or an array of names; every bad element is reported.
fn names(expr: &Expr) -> Result<Vec<String>> {
    match expr {
        Expr::Group(group) => names(&group.expr),
        Expr::Array(array) => {
            let mut errors = Error::accumulator();
            let names = array.elems.iter().filter_map(|elem| errors.handle(name(elem))).collect();
            errors.finish_with(names)
        }
        _ => name(expr).map(|name| vec![name]),
    }
}

fn name(expr: &Expr) -> Result<String> {
    match expr {
        Expr::Group(group) => name(&group.expr),
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) if s.value().is_empty() => {
            Err(Error::custom("a collection or stream name cannot be empty").with_span(s))
        }
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Ok(s.value()),
        _ => Err(Error::custom(format!("{EXPECTED}; this is not a name in quotes")).with_span(expr)),
    }
}

impl FromMeta for Filter {
    fn from_bool(value: bool) -> Result<Self> {
        Ok(if value { Filter::All } else { Filter::Nothing })
    }

    fn from_string(value: &str) -> Result<Self> {
        if value.is_empty() {
            return Err(Error::custom("a collection or stream name cannot be empty"));
        }
        Ok(Filter::Only(vec![value.to_owned()]))
    }

    /// `variables("params", "batch_stats")`: the same as the array form.
    fn from_list(items: &[NestedMeta]) -> Result<Self> {
        let mut errors = Error::accumulator();
        let mut names = Vec::new();
        for item in items {
            match item {
                NestedMeta::Lit(Lit::Str(s)) if !s.value().is_empty() => names.push(s.value()),
                NestedMeta::Lit(lit) => errors.push(Error::custom(EXPECTED).with_span(lit)),
                NestedMeta::Meta(meta) => errors.push(Error::custom(EXPECTED).with_span(meta)),
            }
        }
        errors.finish_with(Filter::Only(names))
    }

    fn from_meta(item: &Meta) -> Result<Self> {
        match item {
            Meta::Path(path) => Err(Error::custom(format!("{EXPECTED}, after `=`")).with_span(path)),
            Meta::List(list) => Self::from_list(&NestedMeta::parse_meta_list(list.tokens.clone())?),
            Meta::NameValue(nv) => Self::from_expr(&nv.value),
        }
    }

    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Group(group) => Self::from_expr(&group.expr),
            Expr::Lit(syn::ExprLit { lit: Lit::Bool(b), .. }) => Self::from_bool(b.value),
            Expr::Lit(syn::ExprLit { lit: Lit::Str(_), .. }) | Expr::Array(_) => names(expr).map(Filter::Only),
            Expr::Call(call) => {
                let is_deny = matches!(&*call.func, Expr::Path(p) if p.qself.is_none() && p.path.is_ident("deny"));
                if !is_deny {
                    return Err(Error::custom(format!("unknown filter function; {EXPECTED}")).with_span(&call.func));
                }
                match (call.args.first(), call.args.len()) {
                    (Some(arg), 1) => names(arg).map(Filter::Deny),
                    _ => Err(Error::custom("`deny(...)` takes one name or one list of names").with_span(call)),
                }
            }
            _ => Err(Error::custom(EXPECTED).with_span(expr)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: TokenStream) -> Result<Filter> {
        Filter::from_expr(&syn::parse2(tokens)?)
    }

    #[test]
    fn forms() {
        assert_eq!(parse(quote!(true)).ok(), Some(Filter::All));
        assert_eq!(parse(quote!(false)).ok(), Some(Filter::Nothing));
        assert_eq!(parse(quote!("params")).ok(), Some(Filter::Only(vec!["params".into()])));
        assert_eq!(parse(quote!(["a", "b"])).ok(), Some(Filter::Only(vec!["a".into(), "b".into()])));
        assert_eq!(parse(quote!(deny("x"))).ok(), Some(Filter::Deny(vec!["x".into()])));
        assert_eq!(parse(quote!(deny(["x", "y"]))).ok(), Some(Filter::Deny(vec!["x".into(), "y".into()])));
    }

    #[test]
    fn errors() {
        for bad in [quote!(3), quote!(allow("x")), quote!(deny("x", "y")), quote!([1, "a"]), quote!(""), quote!(x)] {
            assert!(parse(bad.clone()).is_err(), "{bad} parsed");
        }
        // Every bad element of a list is reported.
        assert_eq!(parse(quote!([1, "a", 2])).err().map(|e| e.len()), Some(2));
    }
}
