//! `#[derive(Module)]`: `Module::NAME` plus `PartialEq`, `Eq` and `Hash` over every field, floats by bit pattern,
//! so that a module's configuration can be part of a compile cache key (`0.1f32 == 0.1f32`, NaN equals the same
//! NaN, `0.0 != -0.0`: exactly the values that trace the same program).
//!
//! Floats are recognised by the written type: `f32`/`f64`, also inside `Option<..>`, `Vec<..>`, `[..; N]`, `[..]`
//! and tuples. A float behind a type alias or inside another type uses that type's own `Hash`/`Eq`.

use darling::ast::{Data, Fields};
use darling::{FromDeriveInput, FromField, FromVariant};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{GenericArgument, Ident, PathArguments, Type};

#[derive(FromDeriveInput)]
#[darling(attributes(module), supports(struct_any, enum_any))]
struct Input {
    ident: Ident,
    generics: syn::Generics,
    data: Data<Variant, Field>,
    /// `#[module(name = "Dense")]`: the name used for automatic child names.
    name: Option<String>,
    /// `#[module(crate = "my_facade")]`: the facade's path.
    #[darling(rename = "crate")]
    krate: Option<syn::Path>,
}

#[derive(FromVariant)]
struct Variant {
    ident: Ident,
    fields: Fields<Field>,
}

#[derive(FromField)]
struct Field {
    ident: Option<Ident>,
    ty: Type,
}

/// Expands `#[derive(Module)]` on `input`; errors become `compile_error!`s.
pub fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    if let syn::Data::Union(u) = &input.data {
        return syn::Error::new(
            u.union_token.span,
            "#[derive(Module)] needs a struct or an enum: a union's fields cannot be compared or hashed",
        )
        .to_compile_error();
    }
    match Input::from_derive_input(&input) {
        Ok(input) => generate(&input),
        Err(e) => e.write_errors(),
    }
}

fn generate(input: &Input) -> TokenStream {
    let krate = input.krate.clone().unwrap_or_else(|| syn::parse_quote!(::lifted_jit));
    let ident = &input.ident;
    let name = input.name.clone().unwrap_or_else(|| ident.to_string());

    let (eq_body, hash_body) = match &input.data {
        Data::Struct(fields) => {
            let (pattern_a, names_a) = pattern(quote!(Self), fields, "__self");
            let (pattern_b, names_b) = pattern(quote!(Self), fields, "__other");
            let eqs = field_eqs(fields, &names_a, &names_b);
            let hashes = field_hashes(fields, &names_a);
            (
                quote!(match (self, other) { (#pattern_a, #pattern_b) => #eqs }),
                quote!(match self { #pattern_a => { #(#hashes)* } }),
            )
        }
        Data::Enum(variants) if variants.is_empty() => (quote!(match *self {}), quote!(match *self {})),
        Data::Enum(variants) => {
            let mut eq_arms = Vec::new();
            let mut hash_arms = Vec::new();
            for v in variants {
                let vi = &v.ident;
                let (pattern_a, names_a) = pattern(quote!(Self::#vi), &v.fields, "__self");
                let (pattern_b, names_b) = pattern(quote!(Self::#vi), &v.fields, "__other");
                let eqs = field_eqs(&v.fields, &names_a, &names_b);
                let hashes = field_hashes(&v.fields, &names_a);
                eq_arms.push(quote!((#pattern_a, #pattern_b) => #eqs,));
                hash_arms.push(quote!(#pattern_a => { #(#hashes)* }));
            }
            let fallback = (variants.len() > 1).then(|| quote!(_ => false,));
            (
                quote!(match (self, other) { #(#eq_arms)* #fallback }),
                quote! {
                    ::core::hash::Hash::hash(&::core::mem::discriminant(self), __state);
                    match self { #(#hash_arms)* }
                },
            )
        }
    };

    let generics = &input.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let bounded = |bound: TokenStream| {
        let mut g = generics.clone();
        let predicates = g.type_params().map(|t| &t.ident).map(|t| quote!(#t: #bound)).collect::<Vec<_>>();
        let wc = g.make_where_clause();
        for p in predicates {
            wc.predicates.push(syn::parse_quote!(#p));
        }
        g.where_clause
    };
    let eq_where = bounded(quote!(::core::cmp::PartialEq));
    let total_where = bounded(quote!(::core::cmp::Eq));
    let hash_where = bounded(quote!(::core::hash::Hash));
    // `Module`'s supertraits, stated for generic types so that the impl applies where they hold.
    let module_where = if generics.type_params().next().is_some() {
        let mut g = generics.clone();
        let wc = g.make_where_clause();
        wc.predicates.push(syn::parse_quote! {
            #ident #ty_generics: ::core::clone::Clone + ::core::fmt::Debug + ::core::hash::Hash + ::core::cmp::Eq
                + ::core::marker::Send + ::core::marker::Sync + 'static
        });
        g.where_clause
    } else {
        where_clause.cloned()
    };

    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::__private::Module for #ident #ty_generics #module_where {
            const NAME: &'static str = #name;
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #ident #ty_generics #eq_where {
            #[allow(clippy::float_cmp)]
            fn eq(&self, other: &Self) -> bool {
                #eq_body
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::Eq for #ident #ty_generics #total_where {}

        #[automatically_derived]
        impl #impl_generics ::core::hash::Hash for #ident #ty_generics #hash_where {
            fn hash<__H: ::core::hash::Hasher>(&self, __state: &mut __H) {
                #hash_body
            }
        }
    }
}

/// `Path { a: __self_0, 1: __self_1 }` (braces work for every struct style) and the bound names.
fn pattern(path: TokenStream, fields: &Fields<Field>, prefix: &str) -> (TokenStream, Vec<Ident>) {
    let names: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("{}_{}", prefix, i)).collect();
    let members = fields.iter().enumerate().map(|(i, f)| match &f.ident {
        Some(ident) => quote!(#ident),
        None => {
            let index = syn::Index::from(i);
            quote!(#index)
        }
    });
    (quote!(#path { #(#members: #names),* }), names)
}

/// `a == b` field by field, as one `bool` expression.
fn field_eqs(fields: &Fields<Field>, a: &[Ident], b: &[Ident]) -> TokenStream {
    all(fields.iter().zip(a.iter().zip(b)).map(|(f, (a, b))| eq_expr(&f.ty, &quote!(#a), &quote!(#b), 0)))
}

/// `x && y && ...`, or `true` for none.
fn all(exprs: impl Iterator<Item = TokenStream>) -> TokenStream {
    let exprs: Vec<TokenStream> = exprs.collect();
    if exprs.is_empty() { quote!(true) } else { quote!(#(#exprs)&&*) }
}

fn field_hashes(fields: &Fields<Field>, a: &[Ident]) -> Vec<TokenStream> {
    fields.iter().zip(a).map(|(f, a)| hash_stmt(&f.ty, &quote!(#a), 0)).collect()
}

/// How a field type is compared and hashed.
enum Shape<'a> {
    Float,
    Option(&'a Type),
    Seq(&'a Type),
    Tuple(Vec<&'a Type>),
    Other,
}

fn single_type_arg(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(a) = args else { return None };
    match a.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(t)] => Some(t),
        _ => None,
    }
}

fn shape(ty: &Type) -> Shape<'_> {
    match ty {
        Type::Paren(p) => shape(&p.elem),
        Type::Group(g) => shape(&g.elem),
        Type::Array(a) => Shape::Seq(&a.elem),
        Type::Slice(s) => Shape::Seq(&s.elem),
        Type::Tuple(t) => Shape::Tuple(t.elems.iter().collect()),
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(s) if (s.ident == "f32" || s.ident == "f64") && s.arguments.is_empty() => Shape::Float,
            Some(s) if s.ident == "Option" => single_type_arg(&s.arguments).map_or(Shape::Other, Shape::Option),
            Some(s) if s.ident == "Vec" => single_type_arg(&s.arguments).map_or(Shape::Other, Shape::Seq),
            _ => Shape::Other,
        },
        _ => Shape::Other,
    }
}

fn has_float(ty: &Type) -> bool {
    match shape(ty) {
        Shape::Float => true,
        Shape::Option(t) | Shape::Seq(t) => has_float(t),
        Shape::Tuple(ts) => ts.into_iter().any(has_float),
        Shape::Other => false,
    }
}

fn span_of(ty: &Type) -> Span {
    Span::call_site().located_at(ty.span())
}

/// A `bool` expression comparing `a` and `b`, both `&ty`.
fn eq_expr(ty: &Type, a: &TokenStream, b: &TokenStream, depth: usize) -> TokenStream {
    let span = span_of(ty);
    if !has_float(ty) {
        return crate::expand::respan(quote!(::core::cmp::PartialEq::eq(#a, #b)), span);
    }
    let (x, y) = (format_ident!("__a{}", depth), format_ident!("__b{}", depth));
    match shape(ty) {
        Shape::Float => quote!((<#ty>::to_bits(*#a) == <#ty>::to_bits(*#b))),
        Shape::Option(inner) => {
            let inner = eq_expr(inner, &quote!(#x), &quote!(#y), depth + 1);
            quote! {
                (match (#a, #b) {
                    (::core::option::Option::Some(#x), ::core::option::Option::Some(#y)) => #inner,
                    (::core::option::Option::None, ::core::option::Option::None) => true,
                    _ => false,
                })
            }
        }
        Shape::Seq(inner) => {
            let inner = eq_expr(inner, &quote!(#x), &quote!(#y), depth + 1);
            quote!((#a.len() == #b.len() && #a.iter().zip(#b.iter()).all(|(#x, #y)| #inner)))
        }
        Shape::Tuple(elems) => {
            let eqs = elems.iter().enumerate().map(|(i, t)| {
                let i = syn::Index::from(i);
                eq_expr(t, &quote!(&(#a).#i), &quote!(&(#b).#i), depth + 1)
            });
            let eqs = all(eqs);
            quote!((#eqs))
        }
        Shape::Other => crate::expand::respan(quote!(::core::cmp::PartialEq::eq(#a, #b)), span),
    }
}

/// Statements hashing `a`, a `&ty`, into `__state`.
fn hash_stmt(ty: &Type, a: &TokenStream, depth: usize) -> TokenStream {
    let span = span_of(ty);
    if !has_float(ty) {
        return crate::expand::respan(quote!(::core::hash::Hash::hash(#a, __state);), span);
    }
    let x = format_ident!("__a{}", depth);
    match shape(ty) {
        Shape::Float => quote!(::core::hash::Hash::hash(&<#ty>::to_bits(*#a), __state);),
        Shape::Option(inner) => {
            let inner = hash_stmt(inner, &quote!(#x), depth + 1);
            quote! {
                match #a {
                    ::core::option::Option::Some(#x) => {
                        ::core::hash::Hash::hash(&1u8, __state);
                        #inner
                    }
                    ::core::option::Option::None => ::core::hash::Hash::hash(&0u8, __state),
                }
            }
        }
        Shape::Seq(inner) => {
            let inner = hash_stmt(inner, &quote!(#x), depth + 1);
            quote! {
                ::core::hash::Hash::hash(&#a.len(), __state);
                for #x in #a.iter() {
                    #inner
                }
            }
        }
        Shape::Tuple(elems) => {
            let hashes = elems.iter().enumerate().map(|(i, t)| {
                let i = syn::Index::from(i);
                hash_stmt(t, &quote!(&(#a).#i), depth + 1)
            });
            quote!(#(#hashes)*)
        }
        Shape::Other => crate::expand::respan(quote!(::core::hash::Hash::hash(#a, __state);), span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn pretty(tokens: TokenStream) -> String {
        match syn::parse2::<syn::File>(tokens.clone()) {
            Ok(file) => prettyplease::unparse(&file),
            Err(e) => format!("unparsable ({e}): {tokens}"),
        }
    }

    #[test]
    fn struct_with_floats() {
        let out = expand(quote! {
            #[module(name = "Dense")]
            pub struct Mlp { pub hidden: usize, pub dropout: f32, pub rates: Option<Vec<(f64, u8)>> }
        });
        expect![[r##"
            #[automatically_derived]
            impl ::lifted_jit::__private::Module for Mlp {
                const NAME: &'static str = "Dense";
            }
            #[automatically_derived]
            impl ::core::cmp::PartialEq for Mlp {
                #[allow(clippy::float_cmp)]
                fn eq(&self, other: &Self) -> bool {
                    match (self, other) {
                        (
                            Self { hidden: __self_0, dropout: __self_1, rates: __self_2 },
                            Self { hidden: __other_0, dropout: __other_1, rates: __other_2 },
                        ) => {
                            ::core::cmp::PartialEq::eq(__self_0, __other_0)
                                && (<f32>::to_bits(*__self_1) == <f32>::to_bits(*__other_1))
                                && (match (__self_2, __other_2) {
                                    (
                                        ::core::option::Option::Some(__a0),
                                        ::core::option::Option::Some(__b0),
                                    ) => {
                                        (__a0.len() == __b0.len()
                                            && __a0
                                                .iter()
                                                .zip(__b0.iter())
                                                .all(|(__a1, __b1)| {
                                                    ((<f64>::to_bits(*&(__a1).0) == <f64>::to_bits(*&(__b1).0))
                                                        && ::core::cmp::PartialEq::eq(&(__a1).1, &(__b1).1))
                                                }))
                                    }
                                    (::core::option::Option::None, ::core::option::Option::None) => {
                                        true
                                    }
                                    _ => false,
                                })
                        }
                    }
                }
            }
            #[automatically_derived]
            impl ::core::cmp::Eq for Mlp {}
            #[automatically_derived]
            impl ::core::hash::Hash for Mlp {
                fn hash<__H: ::core::hash::Hasher>(&self, __state: &mut __H) {
                    match self {
                        Self { hidden: __self_0, dropout: __self_1, rates: __self_2 } => {
                            ::core::hash::Hash::hash(__self_0, __state);
                            ::core::hash::Hash::hash(&<f32>::to_bits(*__self_1), __state);
                            match __self_2 {
                                ::core::option::Option::Some(__a0) => {
                                    ::core::hash::Hash::hash(&1u8, __state);
                                    ::core::hash::Hash::hash(&__a0.len(), __state);
                                    for __a1 in __a0.iter() {
                                        ::core::hash::Hash::hash(
                                            &<f64>::to_bits(*&(__a1).0),
                                            __state,
                                        );
                                        ::core::hash::Hash::hash(&(__a1).1, __state);
                                    }
                                }
                                ::core::option::Option::None => {
                                    ::core::hash::Hash::hash(&0u8, __state)
                                }
                            }
                        }
                    }
                }
            }
        "##]]
        .assert_eq(&pretty(out));
    }

    #[test]
    fn generic_enum() {
        let out = expand(quote! {
            #[module(crate = "facade")]
            enum Act<T> { Relu, Leaky(f32), Custom { f: T, scale: [f64; 2] } }
        });
        expect![[r##"
            #[automatically_derived]
            impl<T> facade::__private::Module for Act<T>
            where
                Act<
                    T,
                >: ::core::clone::Clone + ::core::fmt::Debug + ::core::hash::Hash + ::core::cmp::Eq
                    + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                const NAME: &'static str = "Act";
            }
            #[automatically_derived]
            impl<T> ::core::cmp::PartialEq for Act<T>
            where
                T: ::core::cmp::PartialEq,
            {
                #[allow(clippy::float_cmp)]
                fn eq(&self, other: &Self) -> bool {
                    match (self, other) {
                        (Self::Relu {}, Self::Relu {}) => true,
                        (Self::Leaky { 0: __self_0 }, Self::Leaky { 0: __other_0 }) => {
                            (<f32>::to_bits(*__self_0) == <f32>::to_bits(*__other_0))
                        }
                        (
                            Self::Custom { f: __self_0, scale: __self_1 },
                            Self::Custom { f: __other_0, scale: __other_1 },
                        ) => {
                            ::core::cmp::PartialEq::eq(__self_0, __other_0)
                                && (__self_1.len() == __other_1.len()
                                    && __self_1
                                        .iter()
                                        .zip(__other_1.iter())
                                        .all(|(__a0, __b0)| {
                                            (<f64>::to_bits(*__a0) == <f64>::to_bits(*__b0))
                                        }))
                        }
                        _ => false,
                    }
                }
            }
            #[automatically_derived]
            impl<T> ::core::cmp::Eq for Act<T>
            where
                T: ::core::cmp::Eq,
            {}
            #[automatically_derived]
            impl<T> ::core::hash::Hash for Act<T>
            where
                T: ::core::hash::Hash,
            {
                fn hash<__H: ::core::hash::Hasher>(&self, __state: &mut __H) {
                    ::core::hash::Hash::hash(&::core::mem::discriminant(self), __state);
                    match self {
                        Self::Relu {} => {}
                        Self::Leaky { 0: __self_0 } => {
                            ::core::hash::Hash::hash(&<f32>::to_bits(*__self_0), __state);
                        }
                        Self::Custom { f: __self_0, scale: __self_1 } => {
                            ::core::hash::Hash::hash(__self_0, __state);
                            ::core::hash::Hash::hash(&__self_1.len(), __state);
                            for __a0 in __self_1.iter() {
                                ::core::hash::Hash::hash(&<f64>::to_bits(*__a0), __state);
                            }
                        }
                    }
                }
            }
        "##]]
        .assert_eq(&pretty(out));
    }

    #[test]
    fn errors() {
        let union = expand(quote!(union U { a: u32 })).to_string();
        assert!(union.contains("needs a struct or an enum"), "{union}");
        let key = expand(quote!(
            #[module(nmae = "x")]
            struct S;
        ))
        .to_string();
        assert!(key.contains("Did you mean `name`?"), "{key}");
    }
}
