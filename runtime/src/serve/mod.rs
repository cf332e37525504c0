//! The per-user server (`corral serve`): one process that keeps the
//! engine, the linked components and the watches warm, and answers
//! clients (`corral result --fresh`, prompts) over a Unix socket.
//!
//! Owns the socket directory and its checks (`socket_dir`), the wire
//! format (`protocol`), connections and their limits (`server`), the
//! batching of requested tasks into runs (`runner`), file watches
//! (`watch`), the reuse of unchanged results (`reuse`), the change feed
//! tasks read through `corral:task/incremental` (`changes`), and the client
//! side (`client`, `autostart`, and `relay` for a shell with no socket of
//! its own). It drives `run` exactly as the command
//! line does, through `run::pipeline`; it must not import the views or the
//! command line.
//!
//! A socket is a trust boundary: every byte read from one is hostile
//! until parsed, bounded and checked, and peers of another uid are
//! refused before a byte is read.

pub mod answer;
pub mod autostart;
mod changes;
pub mod client;
pub mod protocol;
pub mod relay;
mod reuse;
mod runner;
pub mod server;
pub mod socket_dir;
mod watch;
