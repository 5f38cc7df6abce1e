//! `#[derive(Module)]`.
use proc_macro2::TokenStream;

/// Expands `#[derive(Module)]` on `input`.
pub fn expand(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
