//! The error type of the runtime.
//!
//! Errors are values, never panics: an op on a [`Tensor`](crate::Tensor) that fails (a shape mismatch, say) yields
//! a tensor that carries the error, and the error comes out as `Err` at the next boundary that returns a `Result`
//! (`to_array`, a `jit` call, `init`/`apply`). Every op error names the op, the operand types and the user's
//! source line.

use std::fmt;

use crate::array::DType;

/// `Result` with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A place in the user's source, recorded with `#[track_caller]` when an op is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SourceLocation(pub &'static std::panic::Location<'static>);

impl SourceLocation {
    /// The location of the caller of the function this is called in (through `#[track_caller]` chains).
    #[track_caller]
    pub fn caller() -> SourceLocation {
        SourceLocation(std::panic::Location::caller())
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.0.file(), self.0.line(), self.0.column())
    }
}

/// An op was applied to operands it does not accept (shapes, dtypes or attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError {
    /// The op's name as the printer writes it (`add`, `dot_general`, `matmul`, ...).
    pub op: String,
    /// What was wrong, naming the shapes involved.
    pub message: String,
    /// Where the user called the op.
    pub location: Option<SourceLocation>,
    /// The module path (`/Dense_1`) when the op ran inside a module.
    pub module_path: Option<String>,
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.module_path {
            write!(f, "in module `{path}`: ")?;
        }
        write!(f, "{}: {}", self.op, self.message)?;
        if let Some(loc) = &self.location {
            write!(f, " (at {loc})")?;
        }
        Ok(())
    }
}

impl std::error::Error for OpError {}

/// Everything that can go wrong in the runtime.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An op got operands or attributes it does not accept.
    #[error(transparent)]
    Op(Box<OpError>),
    /// A donated array was used after the call it was donated to.
    #[error("array was donated to `{to}` and can no longer be used")]
    Donated {
        /// The function the array was donated to.
        to: String,
    },
    /// A typed read-back or a typed argument met another dtype.
    #[error("dtype mismatch while {context}: expected {expected}, found {found}")]
    DTypeMismatch {
        /// What was being done.
        context: String,
        /// The dtype asked for.
        expected: DType,
        /// The dtype found.
        found: DType,
    },
    /// A value given to a public function is out of its domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The text given to the IR parser is not a program.
    #[error("parse error at line {line}, column {column}: {message}")]
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected.
        message: String,
    },
    /// A graph broke an IR invariant.
    #[error("IR verification failed: {0}")]
    Verify(String),
    /// Calling a jitted function with arguments that do not fit its declaration.
    #[error("calling jitted `{function}`: {message}")]
    Call {
        /// The jitted function.
        function: String,
        /// What did not fit.
        message: String,
    },
    /// A tensor was used outside the trace it belongs to, or traces were mixed.
    #[error("{0}")]
    Trace(String),
    /// No backend of that name is registered.
    #[error("unknown backend `{name}`; available: {available}")]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// The registered names.
        available: String,
    },
    /// A device string did not name an available device.
    #[error("unknown device `{name}`; devices available: {available}")]
    UnknownDevice {
        /// The name asked for.
        name: String,
        /// The devices found.
        available: String,
    },
    /// A module used variables or PRNG streams in a way its scope does not allow: a missing parameter, a write to an
    /// immutable collection, a collection or stream hidden by a lifted transform, a missing PRNG key.
    #[error("in module `{path}`: {message}")]
    Scope {
        /// The module path (`/Block_0/Dense_1`; `/` for the root module).
        path: String,
        /// What was wrong and how to fix it.
        message: String,
    },
    /// A call needs more host memory than the machine has available (checked before large allocations, see
    /// [`array::memory`](crate::array::memory)).
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    /// A backend failed to compile or run a program.
    #[error("backend `{backend}`: {message}")]
    Backend {
        /// The backend's name.
        backend: String,
        /// What failed.
        message: String,
    },
}

impl Error {
    /// An [`Error::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::InvalidArgument(message.into())
    }

    /// An [`Error::Op`].
    pub fn op(op: impl Into<String>, message: impl Into<String>, location: Option<SourceLocation>) -> Error {
        Error::Op(Box::new(OpError { op: op.into(), message: message.into(), location, module_path: None }))
    }

    /// The op error inside, if this is one.
    pub fn as_op_error(&self) -> Option<&OpError> {
        match self {
            Error::Op(e) => Some(e),
            _ => None,
        }
    }
}
