//! Code generation for `#[lifted_jit]`: each jitted method becomes a hidden method holding the original body, a
//! wrapper with the original signature that routes the call through the runtime's `LiftedCall`, and an accessor
//! `<name>_jit()` for the method's jit state.

use darling::Error;
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ImplItem, ItemFn, Pat, Visibility};

use crate::args::Args;
use crate::ast::{self, Item, JitFn};
use crate::validate::{self, Kind, Plan};

/// Expands `#[lifted_jit(attr)] item`. On any error the item comes back unchanged, followed by one
/// `compile_error!` per problem, so the rest of the crate still type-checks against the user's code.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Error::accumulator();
    let (args, parse_error) = Args::parse(attr);
    if let Some(e) = parse_error {
        errors.push(e);
    }
    let parsed = match Item::parse(item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            errors.push(e.into());
            return with_errors(item, errors.into_inner());
        }
    };
    let plan = validate::validate(&args, &parsed, &mut errors);
    let errors = errors.into_inner();
    if !errors.is_empty() {
        return with_errors(item, errors);
    }
    match parsed {
        Item::Impl(block) => expand_impl(&plan, block),
        Item::Fn(f) => expand_fn(&plan, f),
    }
}

/// `tokens` with every token (also inside groups) located at `span`.
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(g) = &tree {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tree = TokenTree::Group(group);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

fn with_errors(item: TokenStream, errors: Vec<Error>) -> TokenStream {
    let errors = Error::multiple(errors).write_errors();
    quote!(#item #errors)
}

fn expand_impl(plan: &Plan, mut block: syn::ItemImpl) -> TokenStream {
    let type_name = ast::self_type_name(&block);
    let items = std::mem::take(&mut block.items);
    for (i, item) in items.into_iter().enumerate() {
        let (ImplItem::Fn(method), Some(fn_plan)) = (&item, plan.fns.iter().find(|f| f.item == i)) else {
            block.items.push(item);
            continue;
        };
        let parts = Parts {
            attrs: &method.attrs,
            vis: &method.vis,
            sig: &method.sig,
            block: &method.block,
            kinds: &fn_plan.kinds,
            spec_name: format!("{type_name}::{}", method.sig.ident),
            method: true,
        };
        for tokens in parts.generate(plan) {
            block.items.push(ImplItem::Verbatim(tokens));
        }
    }
    quote!(#block)
}

fn expand_fn(plan: &Plan, f: ItemFn) -> TokenStream {
    let Some(fn_plan) = plan.fns.first() else { return quote!(#f) };
    let parts = Parts {
        attrs: &f.attrs,
        vis: &f.vis,
        sig: &f.sig,
        block: &f.block,
        kinds: &fn_plan.kinds,
        spec_name: f.sig.ident.to_string(),
        method: false,
    };
    parts.generate(plan).into_iter().collect()
}

/// One jitted method or fn, taken apart.
struct Parts<'a> {
    attrs: &'a [Attribute],
    vis: &'a Visibility,
    sig: &'a syn::Signature,
    block: &'a syn::Block,
    kinds: &'a [Kind],
    spec_name: String,
    method: bool,
}

/// Where an original attribute goes.
enum AttrKind {
    /// Docs: the wrapper only.
    Doc,
    /// `cfg`/`cfg_attr`: all three items, which exist together or not at all.
    Cfg,
    /// `allow`/`warn`/`deny`/`forbid`: the body's lints (hidden) and the signature's (wrapper).
    Lint,
    /// `expect`: the body only (an expectation on the wrapper would go unfulfilled).
    Expect,
    /// Everything else (`track_caller`, `inline`, `must_use`, `deprecated`, ...): the wrapper, the public face.
    Other,
}

fn attr_kind(attr: &Attribute) -> AttrKind {
    let path = attr.path();
    if path.is_ident("doc") {
        AttrKind::Doc
    } else if path.is_ident("cfg") || path.is_ident("cfg_attr") {
        AttrKind::Cfg
    } else if ["allow", "warn", "deny", "forbid"].iter().any(|l| path.is_ident(l)) {
        AttrKind::Lint
    } else if path.is_ident("expect") {
        AttrKind::Expect
    } else {
        AttrKind::Other
    }
}

impl Parts<'_> {
    /// The hidden fn, the wrapper and the accessor.
    fn generate(&self, plan: &Plan) -> [TokenStream; 3] {
        let krate = &plan.krate;
        let name = &self.sig.ident;
        let hidden_name = format_ident!("__lifted_jit_{}", name);
        let accessor_name = format_ident!("{}_jit", name);
        let pick = |keep: &dyn Fn(&AttrKind) -> bool| -> Vec<&Attribute> {
            self.attrs.iter().filter(|a| keep(&attr_kind(a))).collect()
        };
        let hidden_attrs = pick(&|k| matches!(k, AttrKind::Cfg | AttrKind::Lint | AttrKind::Expect));
        let wrapper_attrs = pick(&|k| !matches!(k, AttrKind::Expect));
        let cfg_attrs = pick(&|k| matches!(k, AttrKind::Cfg));

        // The hidden fn: the original signature and body under a new name.
        let mut hidden_sig = self.sig.clone();
        hidden_sig.ident = hidden_name.clone();
        let block = self.block;
        let hidden = quote! {
            #[doc(hidden)]
            #[allow(clippy::too_many_arguments, dead_code)]
            #(#hidden_attrs)*
            #hidden_sig #block
        };

        // The wrapper: the original signature with plain names for the parameters.
        let view = JitFn::new(self.sig, !self.method);
        let mut wrapper_sig = self.sig.clone();
        let mut names: Vec<Ident> = Vec::new();
        for (param, input) in view.params.iter().zip(wrapper_sig.inputs.iter_mut()) {
            match input {
                FnArg::Receiver(_) => names.push(Ident::new("self", Span::call_site())),
                FnArg::Typed(t) => {
                    let ident = match &*t.pat {
                        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
                        _ => format_ident!("__arg{}", param.index),
                    };
                    *t.pat = syn::parse_quote!(#ident);
                    names.push(ident);
                }
            }
        }

        let self_arg = names.first().cloned().unwrap_or_else(|| Ident::new("self", Span::call_site()));
        let scope_arg = view.scope().map(|p| &names[p.index]);
        let jit_fn = if self.method { quote!(Self::#accessor_name) } else { quote!(#accessor_name) };
        let hidden_fn = if self.method { quote!(Self::#hidden_name) } else { quote!(#hidden_name) };

        let mut registrations = Vec::new();
        let mut rebuilds = Vec::new();
        let mut call_args = Vec::new();
        for (param, kind) in view.params.iter().zip(self.kinds) {
            let ident = &names[param.index];
            let index = param.index;
            let label = param.describe();
            // Generated calls that take the user's value carry the parameter's span, so that a type error from the
            // runtime's traits (`#[diagnostic::on_unimplemented]`) points at the parameter. Every token of the
            // registration and of the rebuild gets the same span: rustc then reports an unimplemented trait once.
            let span = Span::call_site().located_at(param.arg.span());
            let by_ref = param.by_ref();
            let value = if by_ref { quote!(#ident) } else { quote!(&#ident) };
            match kind {
                Kind::Receiver | Kind::Module => call_args.push(quote!(__this)),
                Kind::Scope => call_args.push(quote!(__cx)),
                Kind::Static => {
                    registrations.push(respan(quote!(__call.static_arg(#index, #label, #value);), span));
                    call_args.push(quote!(#ident));
                }
                Kind::Dynamic { donated } => {
                    registrations.push(respan(quote!(__call.dynamic(#index, #label, #donated, #value);), span));
                    let rebuilt = match &*ident.to_string() {
                        n if n.starts_with("__arg") => format_ident!("{}_rebuilt", ident),
                        _ => format_ident!("__arg_{}", ident),
                    };
                    rebuilds.push(respan(
                        quote!(let #rebuilt = #krate::__private::DynamicArg::rebuild(#value, __leaves);),
                        span,
                    ));
                    call_args.push(if by_ref {
                        quote!(#krate::__private::Borrow::borrow(&#rebuilt))
                    } else {
                        quote!(#rebuilt)
                    });
                }
            }
        }
        let call_mut = if registrations.is_empty() { quote!() } else { quote!(mut) };
        // A result type the runtime cannot return is reported on the result type.
        let finish = match &self.sig.output {
            syn::ReturnType::Type(_, ty) => Ident::new("finish", Span::call_site().located_at(ty.span())),
            syn::ReturnType::Default => Ident::new("finish", Span::call_site()),
        };
        let vis = self.vis;
        let wrapper = quote! {
            #(#wrapper_attrs)*
            #vis #wrapper_sig {
                let #call_mut __call = #krate::__private::LiftedCall::new(#jit_fn(), #self_arg, #scope_arg);
                #(#registrations)*
                __call.#finish(move |__this, __cx, __leaves| {
                    #(#rebuilds)*
                    #hidden_fn(#(#call_args),*)
                })
            }
        };

        let doc = if self.method {
            format!(
                " The jit state of [`Self::{name}`]: trace and compile counts, cache-miss explanations, lowered programs."
            )
        } else {
            format!(
                " The jit state of [`{name}`]: trace and compile counts, cache-miss explanations, lowered programs."
            )
        };
        let spec_name = &self.spec_name;
        let variables = plan.variables.to_tokens(krate);
        let rngs = plan.rngs.to_tokens(krate);
        let option = |value: &Option<String>| match value {
            Some(v) => quote!(::core::option::Option::Some(#v)),
            None => quote!(::core::option::Option::None),
        };
        let backend = option(&plan.backend);
        let device = option(&plan.device);
        let accessor = quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            #(#cfg_attrs)*
            #vis fn #accessor_name() -> &'static #krate::__private::LiftedFn {
                static __LIFTED: #krate::__private::OnceLock<#krate::__private::LiftedFn> =
                    #krate::__private::OnceLock::new();
                __LIFTED.get_or_init(|| {
                    #krate::__private::lifted_fn(#krate::__private::LiftSpec {
                        name: #spec_name,
                        variables: #variables,
                        rngs: #rngs,
                        backend: #backend,
                        device: #device,
                    })
                })
            }
        };
        [hidden, wrapper, accessor]
    }
}
