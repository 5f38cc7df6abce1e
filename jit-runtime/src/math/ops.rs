//! The vocabulary the algorithms are written in: IEEE operations on a float type, its same-width integer type and
//! comparison masks. [`ScalarF32`](super::ScalarF32) and [`ScalarF64`](super::ScalarF64) evaluate them on Rust
//! scalars; the LLVM backend implements the same trait by emitting instructions (scalar or vector), so one algorithm
//! text gives both and they agree bit for bit.
//!
//! Every operation is one correctly rounded IEEE operation (or exact: comparisons, selects, integer and bit
//! operations), so an implementation has no freedom: `fma` is fused, nothing is contracted or reassociated, and
//! integer operations wrap. Things that are undefined in LLVM (shifts by the bit width or more, out-of-range
//! float-to-integer conversion) are not offered; [`MathOps::round_to_int`] converts with a float addition instead.

/// IEEE operations on one float type (`f32` or `f64`, scalar or vector), the algorithms' only primitives.
///
/// `F` is the float value, `I` the integer of the same width (two's complement, wrapping), `M` a comparison mask.
/// Each method returns `Result` so that an IR builder can report its errors; the scalar implementations never fail.
pub trait MathOps {
    /// A float value.
    type F: Copy;
    /// An integer value of the float's width.
    type I: Copy;
    /// The result of a comparison, the condition of a select.
    type M: Copy;
    /// What a primitive can fail with (`Infallible` for scalars).
    type Error;
    /// The same operations on `f64` with the same number of lanes: `f32` functions that need more precision
    /// (`pow`) compute in it. For `f64` it is `Self`.
    type Wide: MathOps<M = Self::M, Error = Self::Error>;

    /// True for `f64`, false for `f32`: algorithms pick their coefficients by it.
    fn is_f64(&self) -> bool;
    /// The `f64` view of these operations.
    fn wide(&self) -> Self::Wide;
    /// Exact conversion to the wide type (`fpext`).
    fn fpext(&self, x: Self::F) -> Result<<Self::Wide as MathOps>::F, Self::Error>;
    /// Rounding conversion from the wide type (`fptrunc`, round to nearest even).
    fn fptrunc(&self, x: <Self::Wide as MathOps>::F) -> Result<Self::F, Self::Error>;

    /// The constant `v` rounded to the float type (to nearest even). Constants meant to be exact in `f32` are written
    /// as `f32` literals widened to `f64`.
    fn c(&self, v: f64) -> Result<Self::F, Self::Error>;
    /// The integer constant `v` wrapped to the width.
    fn ci(&self, v: i64) -> Result<Self::I, Self::Error>;

    /// `a + b`.
    fn add(&self, a: Self::F, b: Self::F) -> Result<Self::F, Self::Error>;
    /// `a - b`.
    fn sub(&self, a: Self::F, b: Self::F) -> Result<Self::F, Self::Error>;
    /// `a * b`.
    fn mul(&self, a: Self::F, b: Self::F) -> Result<Self::F, Self::Error>;
    /// `a / b`.
    fn div(&self, a: Self::F, b: Self::F) -> Result<Self::F, Self::Error>;
    /// `-a` (flips the sign bit).
    fn neg(&self, a: Self::F) -> Result<Self::F, Self::Error>;
    /// `a * b + c` with one rounding.
    fn fma(&self, a: Self::F, b: Self::F, c: Self::F) -> Result<Self::F, Self::Error>;
    /// Correctly rounded square root.
    fn sqrt(&self, a: Self::F) -> Result<Self::F, Self::Error>;
    /// `|a|` (clears the sign bit).
    fn abs(&self, a: Self::F) -> Result<Self::F, Self::Error>;
    /// Round toward -inf.
    fn floor(&self, a: Self::F) -> Result<Self::F, Self::Error>;
    /// Round toward zero.
    fn trunc(&self, a: Self::F) -> Result<Self::F, Self::Error>;
    /// Round to nearest, ties to even.
    fn rint(&self, a: Self::F) -> Result<Self::F, Self::Error>;
    /// The magnitude of `mag` with the sign bit of `sign`.
    fn copysign(&self, mag: Self::F, sign: Self::F) -> Result<Self::F, Self::Error>;

    /// `a < b` (false if either is NaN).
    fn lt(&self, a: Self::F, b: Self::F) -> Result<Self::M, Self::Error>;
    /// `a <= b` (false if either is NaN).
    fn le(&self, a: Self::F, b: Self::F) -> Result<Self::M, Self::Error>;
    /// `a > b` (false if either is NaN).
    fn gt(&self, a: Self::F, b: Self::F) -> Result<Self::M, Self::Error>;
    /// `a >= b` (false if either is NaN).
    fn ge(&self, a: Self::F, b: Self::F) -> Result<Self::M, Self::Error>;
    /// `a == b` (false if either is NaN; `-0 == +0`).
    fn eq(&self, a: Self::F, b: Self::F) -> Result<Self::M, Self::Error>;
    /// `a != b` (true if either is NaN).
    fn ne(&self, a: Self::F, b: Self::F) -> Result<Self::M, Self::Error>;
    /// True where `a` is NaN.
    fn is_nan(&self, a: Self::F) -> Result<Self::M, Self::Error>;
    /// Mask conjunction.
    fn and(&self, a: Self::M, b: Self::M) -> Result<Self::M, Self::Error>;
    /// Mask disjunction.
    fn or(&self, a: Self::M, b: Self::M) -> Result<Self::M, Self::Error>;
    /// Mask negation.
    fn not(&self, a: Self::M) -> Result<Self::M, Self::Error>;
    /// `if m { a } else { b }`, lane by lane.
    fn select(&self, m: Self::M, a: Self::F, b: Self::F) -> Result<Self::F, Self::Error>;
    /// `if m { a } else { b }` on integers.
    fn select_i(&self, m: Self::M, a: Self::I, b: Self::I) -> Result<Self::I, Self::Error>;

    /// The bits of `a`.
    fn float_to_bits(&self, a: Self::F) -> Result<Self::I, Self::Error>;
    /// The float with bits `a`.
    fn bits_to_float(&self, a: Self::I) -> Result<Self::F, Self::Error>;
    /// Wrapping `a + b`.
    fn iadd(&self, a: Self::I, b: Self::I) -> Result<Self::I, Self::Error>;
    /// Wrapping `a - b`.
    fn isub(&self, a: Self::I, b: Self::I) -> Result<Self::I, Self::Error>;
    /// `a & b`.
    fn iand(&self, a: Self::I, b: Self::I) -> Result<Self::I, Self::Error>;
    /// `a | b`.
    fn ior(&self, a: Self::I, b: Self::I) -> Result<Self::I, Self::Error>;
    /// `a ^ b`.
    fn ixor(&self, a: Self::I, b: Self::I) -> Result<Self::I, Self::Error>;
    /// `a << n`, `n` less than the width.
    fn shl(&self, a: Self::I, n: u32) -> Result<Self::I, Self::Error>;
    /// Arithmetic `a >> n`, `n` less than the width.
    fn ashr(&self, a: Self::I, n: u32) -> Result<Self::I, Self::Error>;
    /// `a == b` on integers.
    fn ieq(&self, a: Self::I, b: Self::I) -> Result<Self::M, Self::Error>;
    /// Signed `a < b`.
    fn ilt(&self, a: Self::I, b: Self::I) -> Result<Self::M, Self::Error>;
    /// Signed integer to float, rounded to nearest (exact for the small integers the algorithms convert).
    fn i2f(&self, a: Self::I) -> Result<Self::F, Self::Error>;

    // ---- Composites, written once in terms of the primitives above. ----

    /// The width in bits (32 or 64).
    fn bits(&self) -> u32 {
        if self.is_f64() { 64 } else { 32 }
    }

    /// The number of explicit mantissa bits (23 or 52).
    fn mantissa_bits(&self) -> u32 {
        if self.is_f64() { 52 } else { 23 }
    }

    /// Evaluates `coeffs[0] * x^(k-1) + ... + coeffs[k-1]` by Horner's rule, one `fma` per step.
    fn horner(&self, x: Self::F, coeffs: &[f64]) -> Result<Self::F, Self::Error> {
        let mut p = self.c(coeffs[0])?;
        for &c in &coeffs[1..] {
            p = self.fma(p, x, self.c(c)?)?;
        }
        Ok(p)
    }

    /// `a * b` with `b` a constant.
    fn mulc(&self, a: Self::F, b: f64) -> Result<Self::F, Self::Error> {
        self.mul(a, self.c(b)?)
    }

    /// `a + b` with `b` a constant.
    fn addc(&self, a: Self::F, b: f64) -> Result<Self::F, Self::Error> {
        self.add(a, self.c(b)?)
    }

    /// `if m { c } else { a }` with `c` a constant.
    fn select_c(&self, m: Self::M, c: f64, a: Self::F) -> Result<Self::F, Self::Error> {
        self.select(m, self.c(c)?, a)
    }

    /// `a < c` with `c` a constant.
    fn ltc(&self, a: Self::F, c: f64) -> Result<Self::M, Self::Error> {
        self.lt(a, self.c(c)?)
    }

    /// `a > c` with `c` a constant.
    fn gtc(&self, a: Self::F, c: f64) -> Result<Self::M, Self::Error> {
        self.gt(a, self.c(c)?)
    }

    /// `a == c` with `c` a constant.
    fn eqc(&self, a: Self::F, c: f64) -> Result<Self::M, Self::Error> {
        self.eq(a, self.c(c)?)
    }

    /// `a` limited to `[lo, hi]`; NaN stays NaN.
    fn clamp(&self, a: Self::F, lo: f64, hi: f64) -> Result<Self::F, Self::Error> {
        let a = self.select_c(self.gtc(a, hi)?, hi, a)?;
        self.select_c(self.ltc(a, lo)?, lo, a)
    }

    /// True where `a` is `±inf`.
    fn is_inf(&self, a: Self::F) -> Result<Self::M, Self::Error> {
        self.eqc(self.abs(a)?, f64::INFINITY)
    }

    /// True where the sign bit of `a` is set (`-0` and negative NaNs included).
    fn sign_bit(&self, a: Self::F) -> Result<Self::M, Self::Error> {
        let zero = self.ci(0)?;
        self.ilt(self.float_to_bits(a)?, zero)
    }

    /// `a` with its sign bit flipped where `s`'s sign bit is set: `a * sign(s)` exactly, signed zeros included.
    fn mul_sign(&self, a: Self::F, s: Self::F) -> Result<Self::F, Self::Error> {
        let sign = self.iand(self.float_to_bits(s)?, self.ci(i64::MIN >> (64 - self.bits()))?)?;
        self.bits_to_float(self.ixor(self.float_to_bits(a)?, sign)?)
    }

    /// `a`, which must be a whole number of magnitude below `2^22` (`f32`) or `2^51` (`f64`), as an integer. It adds
    /// `1.5 * 2^p` and reads the low bits, so unlike `fptosi` it is defined (if meaningless) for any input.
    fn round_to_int(&self, a: Self::F) -> Result<Self::I, Self::Error> {
        let magic = 1.5 * (2.0f64).powi(self.mantissa_bits() as i32);
        let m = self.c(magic)?;
        self.isub(self.float_to_bits(self.add(a, m)?)?, self.float_to_bits(m)?)
    }

    /// `2^n` for an integer `n` inside the normal exponent range.
    fn pow2i(&self, n: Self::I) -> Result<Self::F, Self::Error> {
        let bias = if self.is_f64() { 1023 } else { 127 };
        self.bits_to_float(self.shl(self.iadd(n, self.ci(bias)?)?, self.mantissa_bits())?)
    }

    /// `a * 2^n` for an integer `n` with `|n|` up to about twice the exponent range, in two exact steps and one
    /// final rounding (so overflow gives inf and a subnormal result is rounded once).
    fn ldexp(&self, a: Self::F, n: Self::I) -> Result<Self::F, Self::Error> {
        let n1 = self.ashr(n, 1)?;
        let n2 = self.isub(n, n1)?;
        self.mul(self.mul(a, self.pow2i(n1)?)?, self.pow2i(n2)?)
    }
}
