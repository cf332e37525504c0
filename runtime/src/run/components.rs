//! The components of one run: each distinct component (path and pin) is
//! loaded once, by whichever task needs it first, while the others wait for
//! the same result. All are started at once so a task rarely waits for
//! compilation when its turn comes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::events::{FailReason, Failure};
use crate::manifest::Task;
use crate::sandbox::Runtime;
use crate::sandbox::bindings::TaskPre;
use crate::sandbox::host::StoreData;

type Loaded = Result<Arc<TaskPre<StoreData>>, Failure>;
type Key = (PathBuf, Option<String>);

#[derive(Default)]
pub struct Components {
    cells: HashMap<Key, Arc<OnceCell<Loaded>>>,
}

fn key(task: &Task) -> Key {
    (
        task.component_path.clone(),
        task.sha256.as_ref().map(ToString::to_string),
    )
}

impl Components {
    /// Registers a task's component before the run starts.
    pub fn expect(&mut self, task: &Task) {
        self.cells.entry(key(task)).or_default();
    }

    /// Starts loading every registered component in the background.
    pub fn prefetch(&self, runtime: &Arc<Runtime>) {
        for (key, cell) in &self.cells {
            let (cell, runtime, key) = (Arc::clone(cell), Arc::clone(runtime), key.clone());
            tokio::spawn(async move { load(&cell, runtime, key).await });
        }
    }

    /// The task's loaded component, waiting for it if it is being loaded.
    pub async fn get(&self, runtime: &Arc<Runtime>, task: &Task) -> Loaded {
        let key = key(task);
        let cell = Arc::clone(&self.cells[&key]);
        load(&cell, Arc::clone(runtime), key).await
    }
}

async fn load(cell: &OnceCell<Loaded>, runtime: Arc<Runtime>, key: Key) -> Loaded {
    cell.get_or_init(|| async {
        let (path, pin) = key;
        let shown = path.display().to_string();
        tokio::task::spawn_blocking(move || runtime.load(&path, pin.as_deref()))
            .await
            .unwrap_or_else(|error| {
                Err(Failure::new(
                    FailReason::Load,
                    format!("loading {shown} failed: {error}"),
                ))
            })
            .map(Arc::new)
    })
    .await
    .clone()
}
