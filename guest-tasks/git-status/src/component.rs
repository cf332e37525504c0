//! The component glue: argument and environment parsing, host segments and
//! logs. Everything else is the target-independent core.

use std::path::Path;

use corral::task::host::{Level, log, segment_end, segment_start};

use corral_task_files::Changes;

use crate::{Earlier, Error, MAX_INDEX_ENTRIES_VAR, Memo, Observer, Options};

/// The private state file that keeps the last listing.
const MEMO_FILE: &str = "listing";

wit_bindgen::generate!({ path: "../../wit", world: "task" });

struct Component;

/// Forwards the core's sub-segments and diagnostics to the host.
struct Host;

impl Observer for Host {
    fn segment_start(&mut self, name: &str) {
        segment_start(name);
    }
    fn segment_end(&mut self, name: &str) {
        segment_end(name);
    }
    fn debug(&mut self, message: &str) {
        log(Level::Debug, message);
    }
}

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [worktree] = call.args.as_slice() else {
            return Err(Failure::InvalidInput(format!(
                "expected args [WORKTREE], got {:?}",
                call.args
            )));
        };
        let options = Options {
            max_index_entries: crate::parse_max_index_entries(
                std::env::var(MAX_INDEX_ENTRIES_VAR).ok().as_deref(),
            )
            .map_err(into_failure)?,
            // gix-status's own stat is WASI's: see `Options::limited_metadata`.
            limited_metadata: true,
        };
        // Taken before anything is read: what changes from now on is in
        // the next run's feed.
        let cursor = corral_task_files::cursor();
        let earlier = earlier(worktree, &options);
        let (status, listing) =
            crate::status_since(Path::new(worktree), &options, earlier, &mut Host)
                .map_err(into_failure)?;
        keep(cursor, worktree, &options, listing);
        Ok(status.to_string())
    }
}

/// The last run's listing and what changed since, when both are known
/// and the listing was made for this work tree with these options.
fn earlier(worktree: &str, options: &Options) -> Option<Earlier> {
    let memo = corral_task_files::read_state(MEMO_FILE).and_then(|bytes| Memo::decode(&bytes));
    let Some(memo) = memo.filter(|memo| {
        memo.worktree == worktree && memo.max_index_entries == options.max_index_entries as u64
    }) else {
        log(Level::Debug, "no earlier listing for this work tree");
        return None;
    };
    match corral_task_files::changes_since(&memo.cursor) {
        Changes::Known(changed) => Some(Earlier {
            listing: memo.listing,
            changed,
        }),
        Changes::Unknown(why) => {
            log(Level::Debug, &format!("changes unknown: {why}"));
            None
        }
    }
}

/// Keeps this run's listing for the next, with the cursor taken before
/// it; a listing that cannot be kept must not outlive its cursor.
fn keep(cursor: String, worktree: &str, options: &Options, listing: Option<crate::Listing>) {
    let kept = listing.is_some_and(|listing| {
        let memo = Memo {
            cursor,
            worktree: worktree.to_owned(),
            max_index_entries: options.max_index_entries as u64,
            listing,
        };
        corral_task_files::write_state(MEMO_FILE, &memo.encode()).is_ok()
    });
    if !kept {
        corral_task_files::remove_state(MEMO_FILE);
    }
}

export!(Component);

fn into_failure(err: Error) -> Failure {
    match err {
        Error::InvalidInput(m) => Failure::InvalidInput(m),
        Error::Failed(m) => Failure::Error(m),
    }
}
