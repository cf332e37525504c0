//! Narrowing the `HEAD`-to-index diff with the index's cache tree.
//!
//! git records in the index's cache-tree extension (`TREE`) the tree id each
//! directory of the index would be written as, and invalidates a
//! directory's record, and its parents', whenever an entry below it is
//! staged, removed or conflicted. Where a valid record equals the id of
//! `HEAD`'s tree for the same directory, the index entries below it are
//! exactly that tree: nothing there is staged, and neither side needs to be
//! read (git's own diff skips such subtrees the same way). Only the rest is
//! built into the two indexes gix-diff compares, so staging one file reads
//! the few trees along its path instead of every tree of `HEAD`, and a
//! clean index reads none.

use std::ops::Range;

use gix::bstr::{BStr, BString};
use gix::index::State;
use gix::index::entry::{Flags, Mode, Stat};
use gix::index::extension::Tree;
use gix::objs::FindExt;
use gix::objs::tree::EntryKind;

use crate::objects::Objects;

/// `HEAD`'s tree and the index, each without the directories the cache
/// tree vouches are equal on both sides.
pub struct Narrowed {
    pub head: State,
    pub index: State,
}

/// Narrows the comparison of tree `head_tree` with `index`.
pub fn narrow(objects: &Objects, head_tree: &gix::oid, index: &State) -> gix::Result<Narrowed> {
    let mut walk = Walk {
        objects,
        index,
        head: State::new(index.object_hash()),
        equal: Vec::new(),
        path: BString::default(),
    };
    walk.tree(head_tree, index.tree())?;
    let Walk {
        mut head,
        mut equal,
        ..
    } = walk;
    head.sort_entries();

    // Index entries are sorted by path, so each equal directory is one range.
    equal.sort_by_key(|range| range.start);
    let end = index.entries().len();
    let mut narrowed = State::new(index.object_hash());
    let mut next = 0;
    for range in equal.into_iter().chain(std::iter::once(end..end)) {
        for entry in index.entries().get(next..range.start).unwrap_or_default() {
            narrowed.dangerously_push_entry(
                entry.stat,
                entry.id,
                entry.flags,
                entry.mode,
                entry.path(index),
            );
        }
        next = next.max(range.end);
    }
    Ok(Narrowed {
        head,
        index: narrowed,
    })
}

struct Walk<'a> {
    objects: &'a Objects,
    index: &'a State,
    /// The entries of `HEAD`'s trees that were read.
    head: State,
    /// Ranges of index entries under directories equal to `HEAD`'s.
    equal: Vec<Range<usize>>,
    /// The directory being walked, without a trailing slash.
    path: BString,
}

impl Walk<'_> {
    /// Adds the entries of tree `id` at `self.path`, whose cache-tree record
    /// is `node` (`None` where the index has none), unless the two agree.
    fn tree(&mut self, id: &gix::oid, node: Option<&Tree>) -> gix::Result<()> {
        if node.is_some_and(|node| node.num_entries.is_some() && node.id == id) {
            let prefix = match self.path.is_empty() {
                true => BString::default(),
                false => [self.path.as_slice(), b"/"].concat().into(),
            };
            self.equal
                .extend(self.index.prefixed_entries_range(prefix.as_ref()));
            return Ok(());
        }
        let mut buf = Vec::new();
        for entry in self.objects.find_tree_iter(id, &mut buf)? {
            let entry = entry?;
            let len = self.path.len();
            if len != 0 {
                self.path.push(b'/');
            }
            self.path.extend_from_slice(entry.filename);
            let mode = match entry.mode.kind() {
                EntryKind::Tree => None,
                EntryKind::Blob => Some(Mode::FILE),
                EntryKind::BlobExecutable => Some(Mode::FILE_EXECUTABLE),
                EntryKind::Link => Some(Mode::SYMLINK),
                EntryKind::Commit => Some(Mode::COMMIT),
            };
            match mode {
                None => {
                    let child = node.and_then(|node| child(node, entry.filename));
                    self.tree(entry.oid, child)?;
                }
                Some(mode) => self.head.dangerously_push_entry(
                    Stat::default(),
                    entry.oid.to_owned(),
                    Flags::empty(),
                    mode,
                    self.path.as_ref(),
                ),
            }
            self.path.truncate(len);
        }
        Ok(())
    }
}

fn child<'t>(node: &'t Tree, name: &BStr) -> Option<&'t Tree> {
    node.children.iter().find(|c| c.name.as_slice() == name)
}
