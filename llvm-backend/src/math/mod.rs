//! Transcendental functions as polynomials in LLVM IR.
