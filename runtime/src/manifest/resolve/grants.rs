//! A task's file grants (`[[task.dir]]`, `[[task.file]]`): guest paths
//! valid, unique and outside the path corral reserves, host paths resolved
//! against the manifest's directory.

use std::collections::HashMap;

use toml::Spanned;

use crate::manifest::model::{DirGrant, FileGrant};
use crate::manifest::names::Name;
use crate::manifest::schema;

use super::Resolver;

impl Resolver<'_> {
    fn reserved(&mut self, span: std::ops::Range<usize>, key: &str, id: &Name, guest: &str) {
        self.error(
            span,
            key,
            format!("task {id}: guest path {guest} is reserved: corral keeps {RESERVED_GUEST_DIR} for tasks' private state"),
            "choose a guest path outside /.corral",
        );
    }

    pub(super) fn dirs(
        &mut self,
        id: &Name,
        tables: Vec<Spanned<schema::DirTable>>,
    ) -> Vec<DirGrant> {
        let mut seen = HashMap::new();
        let mut dirs = Vec::with_capacity(tables.len());
        for table in tables {
            let line = self.locator.line_of(table.span().start);
            let table = table.into_inner();
            let guest = table.guest.get_ref().clone();
            if !is_guest_path(&guest) {
                self.error(
                    table.guest.span(),
                    "task.dir.guest",
                    format!("task {id}: guest path {guest:?} is not valid"),
                    "use an absolute path such as \"/data\", without `.` or `..` parts",
                );
            } else if is_reserved(&guest) {
                self.reserved(table.guest.span(), "task.dir.guest", id, &guest);
            } else if let Some(first) = seen.insert(guest.clone(), line) {
                self.error(
                    table.guest.span(),
                    "task.dir.guest",
                    format!(
                        "task {id}: guest path {guest} is granted twice (first on line {first})"
                    ),
                    "give each grant its own guest path",
                );
            }
            let host_path = self.path(&table.host, "task.dir.host");
            dirs.push(DirGrant {
                host: table.host.into_inner(),
                host_path,
                guest,
                mode: table.mode,
                line,
            });
        }
        dirs
    }

    /// `[[task.file]]` grants. Each file appears in a guest directory that
    /// holds only granted files, so that directory must not also be a
    /// `[[task.dir]]` grant.
    pub(super) fn files(
        &mut self,
        id: &Name,
        tables: Vec<Spanned<schema::FileTable>>,
        dirs: &[DirGrant],
    ) -> Vec<FileGrant> {
        let mut seen = HashMap::new();
        let mut files = Vec::with_capacity(tables.len());
        for table in tables {
            let line = self.locator.line_of(table.span().start);
            let table = table.into_inner();
            let guest = table.guest.get_ref().clone();
            let parent = guest.rsplit_once('/').map_or("", |(parent, _)| parent);
            if !is_guest_path(&guest) || parent.is_empty() {
                self.error(
                    table.guest.span(),
                    "task.file.guest",
                    format!("task {id}: guest file path {guest:?} is not valid"),
                    "use an absolute path inside a directory, such as \"/home/.zshrc\", without `.` or `..` parts",
                );
            } else if is_reserved(&guest) {
                self.reserved(table.guest.span(), "task.file.guest", id, &guest);
            } else if let Some(first) = seen.insert(guest.clone(), line) {
                self.error(
                    table.guest.span(),
                    "task.file.guest",
                    format!(
                        "task {id}: guest path {guest} is granted twice (first on line {first})"
                    ),
                    "give each file its own guest path",
                );
            } else if let Some(dir) = dirs
                .iter()
                .find(|dir| dir.guest == parent || dir.guest == guest)
            {
                self.error(
                    table.guest.span(),
                    "task.file.guest",
                    format!(
                        "task {id}: guest path {guest} is inside {}, which is a [[task.dir]] grant (line {})",
                        dir.guest, dir.line
                    ),
                    "put granted files in a guest directory of their own",
                );
            }
            let host_path = self.path(&table.host, "task.file.host");
            files.push(FileGrant {
                host: table.host.into_inner(),
                host_path,
                guest,
                line,
            });
        }
        files
    }
}

/// Guest paths corral keeps for itself: the private state of tasks that
/// import `corral:task/incremental` is preopened there.
const RESERVED_GUEST_DIR: &str = "/.corral";

fn is_reserved(path: &str) -> bool {
    path.strip_prefix(RESERVED_GUEST_DIR)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn is_guest_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() > 1
        && path[1..]
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}
