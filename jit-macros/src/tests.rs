//! Snapshot tests of the expansion, pretty-printed (`UPDATE_EXPECT=1 cargo test -p jit-macros` rewrites them).

use expect_test::{Expect, expect};
use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(e) => format!("unparsable expansion ({e}):\n{tokens}"),
    }
}

fn check(attr: TokenStream, item: TokenStream, expected: Expect) {
    expected.assert_eq(&pretty(crate::expand::expand(attr, item)));
}

/// The messages of the `compile_error!`s in an expansion.
fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
    let out = crate::expand::expand(attr, item).to_string();
    out.split("compile_error !")
        .skip(1)
        .map(|s| {
            let start = s.find('"').map_or(0, |i| i + 1);
            let end = s[start..].find("\" }").map_or(s.len(), |e| start + e);
            s[start..end].replace("\\\"", "\"")
        })
        .collect()
}

fn mlp() -> TokenStream {
    quote! {
        impl Mlp {
            pub fn new(hidden: usize) -> Self { Mlp { hidden } }

            /// Applies the layer.
            #[track_caller]
            pub fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
                nn::Dense::new(self.hidden).call(cx, x)
            }

            pub fn loss(&self, cx: &mut Scope, x: &Tensor, (y, w): (Tensor, Tensor)) -> Tensor {
                (self.forward(cx, x, true) - y) * w
            }
        }
    }
}

#[test]
fn method_with_static_name_and_rngs() {
    check(
        quote!(rngs = ["dropout"], static_argnames = ["train"], methods = [forward]),
        mlp(),
        expect![[r#"
            impl Mlp {
                pub fn new(hidden: usize) -> Self {
                    Mlp { hidden }
                }
                #[doc(hidden)]
                #[allow(clippy::too_many_arguments, dead_code)]
                fn __lifted_jit_forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
                    nn::Dense::new(self.hidden).call(cx, x)
                }
                /// Applies the layer.
                #[track_caller]
                pub fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
                    let mut __call = ::lifted_jit::__private::LiftedCall::new(
                        Self::forward_jit(),
                        self,
                        cx,
                    );
                    __call.dynamic(2usize, "x", false, x);
                    __call.static_arg(3usize, "train", &train);
                    __call
                        .finish(move |__this, __cx, __leaves| {
                            let __arg_x = ::lifted_jit::__private::DynamicArg::rebuild(x, __leaves);
                            Self::__lifted_jit_forward(
                                __this,
                                __cx,
                                ::lifted_jit::__private::Borrow::borrow(&__arg_x),
                                train,
                            )
                        })
                }
                /// The jit state of [`Self::forward`]: trace and compile counts, cache-miss explanations, lowered programs.
                #[allow(dead_code)]
                pub fn forward_jit() -> &'static ::lifted_jit::__private::LiftedFn {
                    static __LIFTED: ::lifted_jit::__private::OnceLock<
                        ::lifted_jit::__private::LiftedFn,
                    > = ::lifted_jit::__private::OnceLock::new();
                    __LIFTED
                        .get_or_init(|| {
                            ::lifted_jit::__private::lifted_fn(::lifted_jit::__private::LiftSpec {
                                name: "Mlp::forward",
                                variables: ::lifted_jit::__private::Filter::All,
                                rngs: ::lifted_jit::__private::Filter::only(&["dropout"]),
                                backend: ::core::option::Option::None,
                                device: ::core::option::Option::None,
                            })
                        })
                }
                pub fn loss(&self, cx: &mut Scope, x: &Tensor, (y, w): (Tensor, Tensor)) -> Tensor {
                    (self.forward(cx, x, true) - y) * w
                }
            }
        "#]],
    );
}

/// Asserts that expanding gives exactly errors containing these fragments, in order.
fn check_errors(attr: TokenStream, item: TokenStream, fragments: &[&str]) {
    let errors = errors(attr, item);
    assert_eq!(errors.len(), fragments.len(), "{errors:#?}");
    for (error, fragment) in errors.iter().zip(fragments) {
        assert!(error.contains(fragment), "{error:?} does not contain {fragment:?}\nall: {errors:#?}");
    }
}

#[test]
fn valid_forms_have_no_errors() {
    for attr in [
        quote!(),
        quote!(variables = false, rngs = "dropout"),
        quote!(variables = deny(["intermediates", "cache"]), rngs = deny("params")),
        quote!(static_argnums = 3, methods = [forward]),
        quote!(static_argnames = "x", donate_argnums = 3, methods = [loss]),
        quote!(backend = "cuda"),
        quote!(device = "gpu:1"),
        quote!(crate = "my_facade"),
    ] {
        check_errors(attr, mlp(), &[]);
    }
}

#[test]
fn unknown_key_with_suggestion() {
    check_errors(
        quote!(static_argnum = [3]),
        mlp(),
        &["Unknown field: `static_argnum`. Did you mean `static_argnums`?"],
    );
}

#[test]
fn index_errors() {
    check_errors(
        quote!(static_argnums = [0, 1, 7], methods = [forward]),
        mlp(),
        &[
            "`static_argnums = 0` is the receiver `self` of `forward`, which cannot be static",
            "`static_argnums = 1` is the scope parameter `cx` of `forward`, which cannot be static",
            "`forward` has no parameter 7; it has 4 (0 = self, 1 = cx, 2 = x, 3 = train)",
        ],
    );
    // Out of range for one of the listed methods is enough.
    check_errors(quote!(donate_argnums = 4, methods = [forward, loss]), mlp(), &["`forward` has no parameter 4"]);
}

#[test]
fn name_errors() {
    check_errors(
        quote!(static_argnames = ["trian", "cx", "self"]),
        mlp(),
        &[
            "`static_argnames = \"cx\"` is the scope parameter `cx` of `forward`",
            "`static_argnames = \"self\"` is the receiver",
            "no jitted method has a parameter named `trian`; did you mean `train`?",
        ],
    );
}

#[test]
fn static_and_donated() {
    check_errors(
        quote!(static_argnums = [2], donate_argnames = ["x"], methods = [forward]),
        mlp(),
        &["parameter `x` of `forward` is both static (`static_argnums = 2`) and donated (`donate_argnames = \"x\"`)"],
    );
}

#[test]
fn donated_by_reference() {
    check_errors(
        quote!(donate_argnums = 2, methods = [forward]),
        mlp(),
        &["donated parameter `x` of `forward` is taken by reference"],
    );
    // The pattern parameter of `loss` is by value: fine.
    check_errors(quote!(donate_argnums = 3, methods = [loss]), mlp(), &[]);
}

#[test]
fn placement_errors() {
    check_errors(
        quote!(backend = "tpu"),
        mlp(),
        &["unknown backend `tpu`; expected one of \"cpu\", \"gpu\", \"cuda\", \"interpreter\""],
    );
    check_errors(quote!(device = "cuda0"), mlp(), &["bad device `cuda0`"]);
    check_errors(quote!(device = "cpu:x"), mlp(), &["bad device `cpu:x`"]);
    check_errors(quote!(device = "cpu:0", backend = "cpu"), mlp(), &["give `device` or `backend`, not both"]);
}

#[test]
fn methods_errors() {
    check_errors(
        quote!(methods = [forwrd, forward, forward, new]),
        mlp(),
        &[
            "`forwrd` is not a method of this impl block; did you mean `forward`?",
            "`forward` is listed twice",
            "`new` has no `&self` receiver",
            "jitted `new` needs a scope parameter",
        ],
    );
}

#[test]
fn signature_errors() {
    let item = quote! {
        impl M {
            fn a<T: Clone, const N: usize>(&mut self, x: &mut Tensor, y: impl DynamicArg) -> Tensor { x }
            async unsafe fn b(self) {}
        }
    };
    check_errors(
        quote!(),
        item,
        &[
            "jitted method `a` must take `&self`",
            "generic methods cannot be jitted: `a` has type parameter `T`",
            "generic methods cannot be jitted: `a` has const parameter `N`",
            "parameter `x` of `a` is `&mut`; only the scope may be",
            "generic methods cannot be jitted: `a` takes an `impl Trait` parameter",
            "jitted `a` needs a scope parameter",
            "jitted method `b` must take `&self`",
            "async fns cannot be jitted",
            "unsafe fns cannot be jitted",
            "jitted `b` needs a scope parameter",
        ],
    );
}

#[test]
fn placement_of_the_attribute() {
    check_errors(
        quote!(),
        quote!(
            struct S;
        ),
        &["#[lifted_jit] goes on an impl block of a module"],
    );
    check_errors(quote!(), quote!(impl Tr for M { fn f(&self, cx: &mut Scope) {} }), &["not on a trait impl"]);
    check_errors(
        quote!(),
        quote!(
            fn f(model: Mlp, cx: &mut Scope) {}
        ),
        &["taken by shared reference"],
    );
    check_errors(
        quote!(methods = [f]),
        quote!(
            fn f(model: &Mlp, cx: &mut Scope) {}
        ),
        &["`methods` selects methods"],
    );
}

#[test]
fn all_errors_together() {
    check_errors(
        quote!(varables = true, rngs = [1], static_argnums = [9], backend = "tpu", methods = [forward]),
        mlp(),
        &["Did you mean `variables`?", "expected a filter", "unknown backend `tpu`", "`forward` has no parameter 9"],
    );
}

#[test]
fn error_expansion_keeps_the_item() {
    check(
        quote!(backend = "tpu"),
        quote! {
            fn step(model: &Mlp, cx: &mut Scope, x: Tensor) -> Tensor { x }
        },
        expect![[r#"
            fn step(model: &Mlp, cx: &mut Scope, x: Tensor) -> Tensor {
                x
            }
            ::core::compile_error! {
                "unknown backend `tpu`; expected one of \"cpu\", \"gpu\", \"cuda\", \"interpreter\""
            }
        "#]],
    );
}

#[test]
fn free_fn_with_donation() {
    check(
        quote!(donate_argnames = ["state"], static_argnums = 4, variables = "params"),
        quote! {
            /// One step.
            pub(crate) fn train_step(model: &Mlp, cx: &mut Scope, mut state: Vec<Tensor>, (x, y): (Tensor, Tensor), lr: f32) -> Vec<Tensor> {
                state
            }
        },
        expect![[r##"
            #[doc(hidden)]
            #[allow(clippy::too_many_arguments, dead_code)]
            fn __lifted_jit_train_step(
                model: &Mlp,
                cx: &mut Scope,
                mut state: Vec<Tensor>,
                (x, y): (Tensor, Tensor),
                lr: f32,
            ) -> Vec<Tensor> {
                state
            }
            /// One step.
            pub(crate) fn train_step(
                model: &Mlp,
                cx: &mut Scope,
                state: Vec<Tensor>,
                __arg3: (Tensor, Tensor),
                lr: f32,
            ) -> Vec<Tensor> {
                let mut __call = ::lifted_jit::__private::LiftedCall::new(
                    train_step_jit(),
                    model,
                    cx,
                );
                __call.dynamic(2usize, "state", true, &state);
                __call.dynamic(3usize, "(x, y)", false, &__arg3);
                __call.static_arg(4usize, "lr", &lr);
                __call
                    .finish(move |__this, __cx, __leaves| {
                        let __arg_state = ::lifted_jit::__private::DynamicArg::rebuild(
                            &state,
                            __leaves,
                        );
                        let __arg3_rebuilt = ::lifted_jit::__private::DynamicArg::rebuild(
                            &__arg3,
                            __leaves,
                        );
                        __lifted_jit_train_step(__this, __cx, __arg_state, __arg3_rebuilt, lr)
                    })
            }
            /// The jit state of [`train_step`]: trace and compile counts, cache-miss explanations, lowered programs.
            #[allow(dead_code)]
            pub(crate) fn train_step_jit() -> &'static ::lifted_jit::__private::LiftedFn {
                static __LIFTED: ::lifted_jit::__private::OnceLock<
                    ::lifted_jit::__private::LiftedFn,
                > = ::lifted_jit::__private::OnceLock::new();
                __LIFTED
                    .get_or_init(|| {
                        ::lifted_jit::__private::lifted_fn(::lifted_jit::__private::LiftSpec {
                            name: "train_step",
                            variables: ::lifted_jit::__private::Filter::only(&["params"]),
                            rngs: ::lifted_jit::__private::Filter::All,
                            backend: ::core::option::Option::None,
                            device: ::core::option::Option::None,
                        })
                    })
            }
        "##]],
    );
}

#[test]
fn static_by_num_and_crate_override() {
    check(
        quote!(static_argnums = [2], crate = "my_facade::jit", device = "cuda:0", variables = deny("intermediates")),
        quote! {
            impl<T: Layer> Stack<T> {
                pub fn apply(&self, cx: &mut Scope, depth: usize, x: Tensor) -> Tensor { x }
            }
        },
        expect![[r#"
            impl<T: Layer> Stack<T> {
                #[doc(hidden)]
                #[allow(clippy::too_many_arguments, dead_code)]
                fn __lifted_jit_apply(&self, cx: &mut Scope, depth: usize, x: Tensor) -> Tensor {
                    x
                }
                pub fn apply(&self, cx: &mut Scope, depth: usize, x: Tensor) -> Tensor {
                    let mut __call = my_facade::jit::__private::LiftedCall::new(
                        Self::apply_jit(),
                        self,
                        cx,
                    );
                    __call.static_arg(2usize, "depth", &depth);
                    __call.dynamic(3usize, "x", false, &x);
                    __call
                        .finish(move |__this, __cx, __leaves| {
                            let __arg_x = my_facade::jit::__private::DynamicArg::rebuild(
                                &x,
                                __leaves,
                            );
                            Self::__lifted_jit_apply(__this, __cx, depth, __arg_x)
                        })
                }
                /// The jit state of [`Self::apply`]: trace and compile counts, cache-miss explanations, lowered programs.
                #[allow(dead_code)]
                pub fn apply_jit() -> &'static my_facade::jit::__private::LiftedFn {
                    static __LIFTED: my_facade::jit::__private::OnceLock<
                        my_facade::jit::__private::LiftedFn,
                    > = my_facade::jit::__private::OnceLock::new();
                    __LIFTED
                        .get_or_init(|| {
                            my_facade::jit::__private::lifted_fn(my_facade::jit::__private::LiftSpec {
                                name: "Stack::apply",
                                variables: my_facade::jit::__private::Filter::deny(
                                    &["intermediates"],
                                ),
                                rngs: my_facade::jit::__private::Filter::All,
                                backend: ::core::option::Option::None,
                                device: ::core::option::Option::Some("cuda:0"),
                            })
                        })
                }
            }
        "#]],
    );
}

#[test]
fn no_arguments_but_the_scope() {
    check(
        quote!(rngs = false),
        quote! {
            impl Init {
                fn init(&self, cx: &mut Scope) {}
            }
        },
        expect![[r#"
            impl Init {
                #[doc(hidden)]
                #[allow(clippy::too_many_arguments, dead_code)]
                fn __lifted_jit_init(&self, cx: &mut Scope) {}
                fn init(&self, cx: &mut Scope) {
                    let __call = ::lifted_jit::__private::LiftedCall::new(
                        Self::init_jit(),
                        self,
                        cx,
                    );
                    __call
                        .finish(move |__this, __cx, __leaves| {
                            Self::__lifted_jit_init(__this, __cx)
                        })
                }
                /// The jit state of [`Self::init`]: trace and compile counts, cache-miss explanations, lowered programs.
                #[allow(dead_code)]
                fn init_jit() -> &'static ::lifted_jit::__private::LiftedFn {
                    static __LIFTED: ::lifted_jit::__private::OnceLock<
                        ::lifted_jit::__private::LiftedFn,
                    > = ::lifted_jit::__private::OnceLock::new();
                    __LIFTED
                        .get_or_init(|| {
                            ::lifted_jit::__private::lifted_fn(::lifted_jit::__private::LiftSpec {
                                name: "Init::init",
                                variables: ::lifted_jit::__private::Filter::All,
                                rngs: ::lifted_jit::__private::Filter::Nothing,
                                backend: ::core::option::Option::None,
                                device: ::core::option::Option::None,
                            })
                        })
                }
            }
        "#]],
    );
}
