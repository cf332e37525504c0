//! Events: what a run reports, as typed values and as text.
//!
//! Owns the event model, the `reason=` vocabulary, both encodings (segment
//! lines and JSON lines), the one decoder every reader uses, and the writer
//! thread. It sits below every other stage: it must not import the run,
//! the sandbox, the views or the command line.

mod decode;
mod encode;
mod fields;
mod format;
mod model;
mod reason;
mod writer;

pub use decode::{DecodeError, Decoder, RawEvent, parse_line};
pub use fields::quote;
pub use format::{EventFormat, EventTarget};
pub use model::{BudgetCheck, Event, LogLevel, RunTags, SkipCause, Summary};
pub use reason::{FailReason, Failure};
pub use writer::{EventWriter, Events, Overlay};
