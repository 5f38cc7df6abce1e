//! Checks the attribute against the item and produces the facts the expansion uses: which methods are jitted and
//! what each of their parameters is (receiver or module, scope, static, dynamic, donated).
//!
//! Every problem is pushed to the accumulator, spanned on the token to fix, so that all the errors of one attribute
//! are reported together.

use darling::Error;
use darling::error::Accumulator;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{FnArg, GenericParam, Ident, Type};

use crate::args::Args;
use crate::ast::{self, Item, JitFn, Role};
use crate::filter::Filter;

/// The backends `backend = "..."` accepts.
pub const BACKENDS: [&str; 4] = ["cpu", "gpu", "cuda", "interpreter"];
/// The device kinds `device = "kind"` or `"kind:N"` accepts.
pub const DEVICE_KINDS: [&str; 3] = ["cpu", "gpu", "cuda"];

/// What the expansion needs, all checked.
pub struct Plan {
    /// The facade crate's path.
    pub krate: syn::Path,
    /// Lifted variable collections.
    pub variables: Filter,
    /// Lifted PRNG streams.
    pub rngs: Filter,
    /// The backend name, as written.
    pub backend: Option<String>,
    /// The device, as written.
    pub device: Option<String>,
    /// The jitted fns: for an impl block, positions in its `items`; for a free fn, one entry at 0.
    pub fns: Vec<FnPlan>,
}

/// One jitted method or fn.
pub struct FnPlan {
    /// Position in the impl block's items (0 for a free fn).
    pub item: usize,
    /// What each parameter is, by position.
    pub kinds: Vec<Kind>,
}

/// What a parameter is in the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `self`.
    Receiver,
    /// The module parameter of a free fn.
    Module,
    /// The `&mut Scope`.
    Scope,
    /// A compile-time constant, hashed into the cache key.
    Static,
    /// An array or container of arrays; `donated` when its buffer may be reused.
    Dynamic {
        /// Whether the parameter is donated.
        donated: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Static,
    Donate,
}

struct Entry {
    what: Use,
    key: &'static str,
    by: By,
    span: Span,
}

enum By {
    Num(usize),
    Name(String),
}

impl Entry {
    fn describe(&self) -> String {
        match &self.by {
            By::Num(n) => format!("`{} = {n}`", self.key),
            By::Name(name) => format!("`{} = \"{name}\"`", self.key),
        }
    }
}

fn err(span: Span, message: impl std::fmt::Display) -> Error {
    Error::custom(message).with_span(&span)
}

/// Checks `args` against `item`; pushes every problem to `errors` and returns what is known.
pub fn validate(args: &Args, item: &Item, errors: &mut Accumulator) -> Plan {
    let mut plan = Plan {
        krate: args.krate.clone().unwrap_or_else(|| syn::parse_quote!(::lifted_jit)),
        variables: args.variables.clone().unwrap_or(Filter::All),
        rngs: args.rngs.clone().unwrap_or(Filter::All),
        backend: args.backend.as_ref().map(|b| b.value()),
        device: args.device.as_ref().map(|d| d.value()),
        fns: Vec::new(),
    };
    check_placement(args, errors);

    let fns: Vec<(usize, JitFn<'_>)> = match item {
        Item::Fn(f) => {
            if let Some(methods) = &args.methods {
                let span = methods.0.first().map_or_else(Span::call_site, Ident::span);
                errors.push(err(span, "`methods` selects methods of an impl block; a jitted fn is jitted whole"));
            }
            let view = JitFn::new(&f.sig, true);
            check_free_fn(&view, errors);
            vec![(0, view)]
        }
        Item::Impl(block) => {
            if let Some((_, path, _)) = &block.trait_ {
                errors.push(err(
                    path.span(),
                    "#[lifted_jit] goes on an inherent impl block (`impl Mlp { ... }`), not on a trait impl",
                ));
                return plan;
            }
            listed_methods(args, block, errors)
        }
    };
    for (_, f) in &fns {
        check_signature(f, matches!(item, Item::Impl(_)), errors);
    }

    let entries = entries(args);
    let mut reported = vec![false; entries.len()];
    let mut kinds: Vec<Vec<Kind>> = Vec::new();
    for (_, f) in &fns {
        let mut stat = vec![None::<usize>; f.params.len()];
        let mut donate = vec![None::<usize>; f.params.len()];
        for (e, entry) in entries.iter().enumerate() {
            let param = match &entry.by {
                By::Num(n) => match f.params.get(*n) {
                    Some(p) => p,
                    None => {
                        if !std::mem::replace(&mut reported[e], true) {
                            errors.push(err(
                                entry.span,
                                format!(
                                    "{}: `{}` has no parameter {n}; it has {} ({}), counted from 0",
                                    entry.key,
                                    f.ident(),
                                    f.params.len(),
                                    f.params
                                        .iter()
                                        .map(|p| format!("{} = {}", p.index, p.describe()))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ));
                        }
                        continue;
                    }
                },
                By::Name(name) => match f.param_named(name) {
                    Some(p) => p,
                    None => continue,
                },
            };
            let verb = match entry.what {
                Use::Static => "static",
                Use::Donate => "donated",
            };
            let problem = match param.role {
                Role::Receiver => Some(format!("the receiver `self` of `{}`", f.ident())),
                Role::Module => Some(format!("the module parameter `{}` of `{}`", param.describe(), f.ident())),
                Role::Scope => Some(format!("the scope parameter `{}` of `{}`", param.describe(), f.ident())),
                Role::Arg => None,
            };
            if let Some(problem) = problem {
                if !std::mem::replace(&mut reported[e], true) {
                    errors.push(err(entry.span, format!("{} is {problem}, which cannot be {verb}", entry.describe())));
                }
                continue;
            }
            match entry.what {
                Use::Static => stat[param.index] = stat[param.index].or(Some(e)),
                Use::Donate => donate[param.index] = donate[param.index].or(Some(e)),
            }
        }
        let mut f_kinds = Vec::with_capacity(f.params.len());
        for p in &f.params {
            f_kinds.push(match p.role {
                Role::Receiver => Kind::Receiver,
                Role::Module => Kind::Module,
                Role::Scope => Kind::Scope,
                Role::Arg => match (stat[p.index], donate[p.index]) {
                    (Some(s), Some(d)) => {
                        if !std::mem::replace(&mut reported[d], true) {
                            errors.push(err(
                                entries[d].span,
                                format!(
                                    "parameter `{}` of `{}` is both static ({}) and donated ({}); a static value is \
                                     part of the compile key and has no buffer to donate",
                                    p.describe(),
                                    f.ident(),
                                    entries[s].describe(),
                                    entries[d].describe()
                                ),
                            ));
                        }
                        Kind::Static
                    }
                    (Some(_), None) => Kind::Static,
                    (None, donated) => {
                        if donated.is_some() && p.by_ref() {
                            errors.push(err(
                                p.ty_span(),
                                format!(
                                    "donated parameter `{}` of `{}` is taken by reference; take it by value so \
                                     that it cannot be used after the call gives its buffer away",
                                    p.describe(),
                                    f.ident()
                                ),
                            ));
                        }
                        Kind::Dynamic { donated: donated.is_some() }
                    }
                },
            });
        }
        kinds.push(f_kinds);
    }

    // Names that no listed method has.
    for (e, entry) in entries.iter().enumerate() {
        let By::Name(name) = &entry.by else { continue };
        if reported[e] || fns.iter().any(|(_, f)| f.param_named(name).is_some()) {
            continue;
        }
        let candidates: Vec<String> = fns
            .iter()
            .flat_map(|(_, f)| f.params.iter().filter(|p| p.role == Role::Arg).filter_map(|p| p.name()))
            .collect();
        let which = match &fns[..] {
            [(_, f)] => format!("`{}` has no parameter", f.ident()),
            _ => "no jitted method has a parameter".to_string(),
        };
        errors
            .push(err(entry.span, format!("{}: {which} named `{name}`{}", entry.key, did_you_mean(name, &candidates))));
    }

    plan.fns = fns.iter().zip(kinds).map(|((item, _), kinds)| FnPlan { item: *item, kinds }).collect();
    plan
}

/// `backend` and `device`.
fn check_placement(args: &Args, errors: &mut Accumulator) {
    if let Some(backend) = &args.backend {
        let name = backend.value();
        if !BACKENDS.contains(&name.as_str()) {
            errors.push(err(
                backend.span(),
                format!("unknown backend `{name}`; expected one of {}", quoted_list(&BACKENDS)),
            ));
        }
    }
    if let Some(device) = &args.device {
        let text = device.value();
        let (kind, ordinal) = match text.split_once(':') {
            Some((kind, ordinal)) => (kind, Some(ordinal)),
            None => (text.as_str(), None),
        };
        let ordinal_ok = ordinal.is_none_or(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()));
        if !DEVICE_KINDS.contains(&kind) || !ordinal_ok {
            errors.push(err(
                device.span(),
                format!(
                    "bad device `{text}`; expected a kind ({}) optionally followed by `:` and an ordinal, such as \
                     \"cpu\", \"cpu:0\" or \"cuda:1\"",
                    quoted_list(&DEVICE_KINDS)
                ),
            ));
        }
        if args.backend.is_some() {
            errors.push(err(
                device.span(),
                "give `device` or `backend`, not both: a device already names its backend (`device = \"cuda:0\"`)",
            ));
        }
    }
}

fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

fn entries(args: &Args) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (what, key, nums) in
        [(Use::Static, "static_argnums", &args.static_argnums), (Use::Donate, "donate_argnums", &args.donate_argnums)]
    {
        for i in nums.iter().flat_map(|n| &n.0) {
            entries.push(Entry { what, key, by: By::Num(i.value), span: i.span });
        }
    }
    for (what, key, names) in [
        (Use::Static, "static_argnames", &args.static_argnames),
        (Use::Donate, "donate_argnames", &args.donate_argnames),
    ] {
        for n in names.iter().flat_map(|n| &n.0) {
            entries.push(Entry { what, key, by: By::Name(n.value.clone()), span: n.span });
        }
    }
    entries
}

/// The methods `methods = [...]` selects (or every method with a receiver).
fn listed_methods<'a>(args: &Args, block: &'a syn::ItemImpl, errors: &mut Accumulator) -> Vec<(usize, JitFn<'a>)> {
    let mut all = ast::methods(block);
    let Some(methods) = &args.methods else {
        all.retain(|(_, f)| f.params.first().is_some_and(|p| p.role == Role::Receiver));
        if all.is_empty() {
            errors.push(err(block.self_ty.span(), "this impl block has no method taking `&self` to jit"));
        }
        return all;
    };
    if methods.0.is_empty() {
        errors.push(err(Span::call_site(), "`methods = []` jits nothing; list methods or remove the attribute"));
    }
    let names: Vec<String> = all.iter().map(|(_, f)| f.ident().to_string()).collect();
    let mut chosen = Vec::new();
    for (i, ident) in methods.0.iter().enumerate() {
        if methods.0[..i].contains(ident) {
            errors.push(err(ident.span(), format!("`{ident}` is listed twice in `methods`")));
            continue;
        }
        match names.iter().position(|n| ident == n) {
            Some(pos) => chosen.push(pos),
            None => errors.push(err(
                ident.span(),
                format!("`{ident}` is not a method of this impl block{}", did_you_mean(&ident.to_string(), &names)),
            )),
        }
    }
    let mut taken: Vec<Option<(usize, JitFn<'a>)>> = all.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|pos| taken.get_mut(pos).and_then(Option::take)).collect()
}

/// The first parameter of a jitted free fn is the module, by shared reference.
fn check_free_fn(f: &JitFn<'_>, errors: &mut Accumulator) {
    match f.params.first() {
        None => errors.push(err(
            f.ident().span(),
            format!("jitted fn `{}` needs the module as its first parameter (`model: &Mlp`)", f.ident()),
        )),
        Some(p) if matches!(p.arg, FnArg::Receiver(_)) => errors.push(err(
            p.arg.span(),
            "a method is jitted by putting #[lifted_jit] on its impl block (with `methods = [...]`)",
        )),
        Some(p) if !p.by_ref() => errors.push(err(
            p.ty_span(),
            format!(
                "the first parameter of jitted fn `{}` is the module and is taken by shared reference (`model: &Mlp`)",
                f.ident()
            ),
        )),
        Some(_) => {}
    }
}

/// What every jitted signature must be: `&self` (methods), a scope, no generics, no `&mut` but the scope, a plain fn.
fn check_signature(f: &JitFn<'_>, method: bool, errors: &mut Accumulator) {
    let name = f.ident();
    let sig = f.sig;
    if method {
        match sig.inputs.first() {
            Some(FnArg::Receiver(r)) => {
                if r.reference.is_none() || r.mutability.is_some() || r.colon_token.is_some() {
                    errors.push(err(
                        r.span(),
                        format!("jitted method `{name}` must take `&self`: the module is configuration, read-only"),
                    ));
                }
            }
            _ => errors.push(err(
                name.span(),
                format!("`{name}` has no `&self` receiver; only methods taking `&self` can be jitted"),
            )),
        }
    }
    if let Some(t) = &sig.constness {
        errors.push(err(t.span, "const fns cannot be jitted"));
    }
    if let Some(t) = &sig.asyncness {
        errors.push(err(t.span, "async fns cannot be jitted"));
    }
    if let Some(t) = &sig.unsafety {
        errors.push(err(t.span, "unsafe fns cannot be jitted"));
    }
    if let Some(abi) = &sig.abi {
        errors.push(err(abi.span(), "extern fns cannot be jitted"));
    }
    if let Some(v) = &sig.variadic {
        errors.push(err(v.span(), "variadic fns cannot be jitted"));
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Lifetime(_) => {}
            GenericParam::Type(t) => errors.push(err(
                t.ident.span(),
                format!("generic methods cannot be jitted: `{name}` has type parameter `{}`", t.ident),
            )),
            GenericParam::Const(c) => errors.push(err(
                c.ident.span(),
                format!("generic methods cannot be jitted: `{name}` has const parameter `{}`", c.ident),
            )),
        }
    }
    for p in &f.params {
        if let Some(ty) = p.ty() {
            let mut finder = ImplTraitFinder(Vec::new());
            finder.visit_type(ty);
            for span in finder.0 {
                errors.push(err(
                    span,
                    format!("generic methods cannot be jitted: `{name}` takes an `impl Trait` parameter"),
                ));
            }
        }
        if p.role == Role::Arg && matches!(p.ty(), Some(Type::Reference(r)) if r.mutability.is_some()) {
            let why = if p.ty().is_some_and(ast::is_scope_type) {
                format!("`{name}` has a second scope parameter; a jitted fn takes one")
            } else {
                format!(
                    "parameter `{}` of `{name}` is `&mut`; only the scope may be: a traced body cannot write to the \
                     caller's values, return the new value instead",
                    p.describe()
                )
            };
            errors.push(err(p.ty_span(), why));
        }
    }
    if f.scope().is_none() {
        errors.push(err(
            name.span(),
            format!("jitted `{name}` needs a scope parameter (`cx: &mut Scope`): variables and rngs reach it through the scope"),
        ));
    }
}

struct ImplTraitFinder(Vec<Span>);

impl<'ast> Visit<'ast> for ImplTraitFinder {
    fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
        self.0.push(t.impl_token.span);
    }
}

/// ", did you mean `x`?" for the closest candidate, if close enough.
pub fn did_you_mean(name: &str, candidates: &[String]) -> String {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= c.len().max(name.len()).div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
