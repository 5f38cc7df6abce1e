//! A typed view of the item under the attribute: an impl block's methods, or one free fn, with each parameter's
//! position and role (receiver or module, scope, other).

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ImplItem, ItemFn, ItemImpl, Pat, Signature, Type};

/// What the attribute is on.
pub enum Item {
    /// `impl Mlp { ... }`.
    Impl(ItemImpl),
    /// `fn train_step(model: &Mlp, cx: &mut Scope, ...)`.
    Fn(ItemFn),
}

impl Item {
    /// Parses the annotated item; anything but an impl block or a fn is an error spanned on its first tokens.
    pub fn parse(tokens: TokenStream) -> syn::Result<Item> {
        match syn::parse2::<syn::Item>(tokens)? {
            syn::Item::Impl(item) => Ok(Item::Impl(item)),
            syn::Item::Fn(item) => Ok(Item::Fn(item)),
            other => {
                let span = match &other {
                    syn::Item::Struct(s) => s.struct_token.span,
                    syn::Item::Enum(e) => e.enum_token.span,
                    syn::Item::Trait(t) => t.trait_token.span,
                    syn::Item::Mod(m) => m.mod_token.span,
                    _ => other.span(),
                };
                Err(syn::Error::new(
                    span,
                    "#[lifted_jit] goes on an impl block of a module, or on a fn whose first parameter is a module \
                     (`fn step(model: &Mlp, cx: &mut Scope, ...)`)",
                ))
            }
        }
    }
}

/// The role a parameter plays in the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `self` of a method (position 0).
    Receiver,
    /// The module parameter of a free fn (position 0).
    Module,
    /// The `&mut Scope` parameter.
    Scope,
    /// Anything else: static or dynamic, as the attribute says.
    Arg,
}

/// One parameter of a jitted signature.
pub struct Param<'a> {
    /// Its position as written; the receiver or module is 0.
    pub index: usize,
    /// Its role.
    pub role: Role,
    /// The parameter as written.
    pub arg: &'a FnArg,
}

impl Param<'_> {
    /// The name a parameter can be referred to by in `static_argnames`/`donate_argnames`: the identifier of a
    /// plain-ident pattern (`x`, `mut x`); `self` for the receiver.
    pub fn name(&self) -> Option<String> {
        match self.arg {
            FnArg::Receiver(_) => Some("self".to_string()),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
        }
    }

    /// How the parameter is described in messages: its name, or its pattern.
    pub fn describe(&self) -> String {
        match (self.name(), self.arg) {
            (Some(name), _) => name,
            (None, FnArg::Typed(t)) => tokens_to_text(&t.pat),
            (None, FnArg::Receiver(_)) => "self".to_string(),
        }
    }

    /// The parameter's type (`Self` for the receiver).
    pub fn ty(&self) -> Option<&Type> {
        match self.arg {
            FnArg::Receiver(_) => None,
            FnArg::Typed(t) => Some(&t.ty),
        }
    }

    /// Whether the parameter is a shared reference (`x: &Tensor`).
    pub fn by_ref(&self) -> bool {
        matches!(self.ty(), Some(Type::Reference(r)) if r.mutability.is_none())
    }

    /// The span of the parameter's type, where errors about its type point.
    pub fn ty_span(&self) -> Span {
        match self.arg {
            FnArg::Receiver(r) => r.span(),
            FnArg::Typed(t) => t.ty.span(),
        }
    }
}

/// Renders tokens as a readable one-line string (`(a, b)` rather than `(a , b)`).
pub fn tokens_to_text(tokens: &impl quote::ToTokens) -> String {
    let text = tokens.to_token_stream().to_string();
    text.replace(" ,", ",").replace("( ", "(").replace(" )", ")").replace("& ", "&")
}

/// Whether `ty` is `&mut Scope` (the last path segment is `Scope`, whatever the path).
pub fn is_scope_type(ty: &Type) -> bool {
    let Type::Reference(r) = ty else { return false };
    if r.mutability.is_none() {
        return false;
    }
    matches!(&*r.elem, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "Scope"))
}

/// A signature split into parameters with roles.
pub struct JitFn<'a> {
    /// The signature as written.
    pub sig: &'a Signature,
    /// The parameters in order.
    pub params: Vec<Param<'a>>,
}

impl<'a> JitFn<'a> {
    /// Views `sig`; `free` says whether it is a free fn, whose first parameter is the module.
    pub fn new(sig: &'a Signature, free: bool) -> Self {
        let mut seen_scope = false;
        let params = sig
            .inputs
            .iter()
            .enumerate()
            .map(|(index, arg)| {
                let role = match arg {
                    FnArg::Receiver(_) => Role::Receiver,
                    FnArg::Typed(_) if free && index == 0 => Role::Module,
                    FnArg::Typed(t) if !seen_scope && is_scope_type(&t.ty) => {
                        seen_scope = true;
                        Role::Scope
                    }
                    FnArg::Typed(_) => Role::Arg,
                };
                Param { index, role, arg }
            })
            .collect();
        JitFn { sig, params }
    }

    /// The method's or fn's name.
    pub fn ident(&self) -> &Ident {
        &self.sig.ident
    }

    /// The scope parameter, if there is one.
    pub fn scope(&self) -> Option<&Param<'a>> {
        self.params.iter().find(|p| p.role == Role::Scope)
    }

    /// The parameter called `name`.
    pub fn param_named(&self, name: &str) -> Option<&Param<'a>> {
        self.params.iter().find(|p| p.name().as_deref() == Some(name))
    }
}

/// The methods of an impl block, as (position in `items`, view).
pub fn methods(item: &ItemImpl) -> Vec<(usize, JitFn<'_>)> {
    item.items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            ImplItem::Fn(f) => Some((i, JitFn::new(&f.sig, false))),
            _ => None,
        })
        .collect()
}

/// The name of an impl block's self type, for messages and `LiftSpec::name` (`Mlp` for `impl<T> Mlp<T>`).
pub fn self_type_name(item: &ItemImpl) -> String {
    match &*item.self_ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_else(|| tokens_to_text(&item.self_ty))
        }
        other => tokens_to_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn roles() {
        let f: ItemFn = syn::parse_quote!(
            fn step(model: &Mlp, cx: &mut lifted_jit::lift::Scope, (a, b): (T, T), mut n: usize) {}
        );
        let view = JitFn::new(&f.sig, true);
        let roles: Vec<Role> = view.params.iter().map(|p| p.role).collect();
        assert_eq!(roles, [Role::Module, Role::Scope, Role::Arg, Role::Arg]);
        assert_eq!(view.params[2].name(), None);
        assert_eq!(view.params[2].describe(), "(a, b)");
        assert_eq!(view.params[3].name().as_deref(), Some("n"));
        assert!(view.params[0].by_ref());
        assert_eq!(view.scope().map(|p| p.index), Some(1));
    }

    #[test]
    fn not_an_impl_or_fn() {
        let err = Item::parse(quote!(
            struct S;
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("goes on an impl block"), "{err}");
    }
}
