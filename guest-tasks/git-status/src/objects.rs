//! A read-only object database that reads files instead of mapping them.
//!
//! gix's own object store (gix-odb) memory-maps loose objects, pack indexes
//! and packs through `memmap2`, which on `wasm32-wasip2` is a stub that
//! fails with `Unsupported` (WASI has no `mmap`). The decoders underneath are
//! generic over any byte buffer, so this store reads the same files into
//! memory and hands them to gix-pack and gix-zlib. Used on every target, so the tests exercise what ships.
//!
//! Costs: a pack's `.idx` is read whole when the first object is not loose;
//! from a `.pack`, only the entries of the objects asked for and their delta
//! bases (see `pack.rs`). `objects/info/alternates` is not followed.

use std::cell::OnceCell;
use std::path::PathBuf;

use gix::hash::{Kind as HashKind, ObjectId, oid};
use gix::objs::{Data, Header, Kind};

use crate::pack::Pack;
use crate::read_error::{corrupt, io_error};

type Result<T> = gix::Result<T>;

/// Objects under one `objects/` directory.
pub struct Objects {
    dir: PathBuf,
    hash: HashKind,
    packs: OnceCell<Vec<Pack>>,
}

impl Objects {
    pub fn at(dir: impl Into<PathBuf>, hash: HashKind) -> Self {
        Objects {
            dir: dir.into(),
            hash,
            packs: OnceCell::new(),
        }
    }

    /// The repository's object directory (the common one for linked worktrees).
    pub fn of(repo: &gix::Repository) -> Self {
        Objects::at(repo.common_dir().join("objects"), repo.object_hash())
    }

    /// Fills `out` with loose object `id`, if there is one.
    fn read_loose(&self, id: &oid, out: &mut Vec<u8>) -> Result<Option<Kind>> {
        let hex = id.to_hex().to_string();
        let path = self.dir.join(&hex[..2]).join(&hex[2..]);
        let compressed = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io_error(&path, err)),
        };
        // The header ("<kind> <size>\0") fits in the first bytes; inflate it
        // first to learn the size, then the rest straight into `out`.
        let mut header = [0_u8; 64];
        let mut inflate = gix_zlib::Inflate::default();
        let (status, consumed_in, consumed_out) = inflate.prefix(&compressed, &mut header)?;
        let (kind, size, header_len) = gix::objs::decode::loose_header(&header[..consumed_out])?;
        let size = usize::try_from(size).map_err(|_| corrupt(&path, "object too large"))?;
        out.clear();
        if status == gix_zlib::Status::StreamEnd {
            out.extend_from_slice(&header[header_len..consumed_out]);
        } else {
            inflate.rest(
                &compressed[consumed_in..],
                &header[..consumed_out],
                header_len,
                out,
                size,
            )?;
        }
        if out.len() != size {
            return Err(corrupt(&path, "object size does not match its header"));
        }
        Ok(Some(kind))
    }

    fn packs(&self) -> Result<&[Pack]> {
        if let Some(packs) = self.packs.get() {
            return Ok(packs);
        }
        let packs = self.load_pack_indexes()?;
        Ok(self.packs.get_or_init(|| packs))
    }

    fn load_pack_indexes(&self) -> Result<Vec<Pack>> {
        let dir = self.dir.join("pack");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(io_error(&dir, err)),
        };
        let mut idx_paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(|err| io_error(&dir, err))?.path();
            if path.extension().is_some_and(|ext| ext == "idx")
                && path.with_extension("pack").is_file()
            {
                idx_paths.push(path);
            }
        }
        idx_paths.sort();
        idx_paths
            .iter()
            .map(|path| Pack::open(path, self.hash))
            .collect()
    }

    /// Fills `out` with packed object `id`, resolving deltas within its pack.
    fn read_packed(&self, id: &oid, out: &mut Vec<u8>) -> Result<Option<Kind>> {
        for pack in self.packs()? {
            if let Some(kind) = pack.find(id, out)? {
                return Ok(Some(kind));
            }
        }
        Ok(None)
    }
}

impl gix::objs::Find for Objects {
    fn try_find<'a>(&self, id: &oid, buffer: &'a mut Vec<u8>) -> Result<Option<Data<'a>>> {
        let kind = match self.read_loose(id, buffer)? {
            Some(kind) => Some(kind),
            None => self.read_packed(id, buffer)?,
        };
        Ok(kind.map(|kind| Data {
            kind,
            object_hash: self.hash,
            data: buffer,
        }))
    }
}

impl gix::objs::FindHeader for Objects {
    fn try_header(&self, id: &oid) -> Result<Option<Header>> {
        let mut buf = Vec::new();
        Ok(
            gix::objs::Find::try_find(self, id, &mut buf)?.map(|data| Header {
                kind: data.kind,
                size: data.data.len() as u64,
            }),
        )
    }
}

/// The tree of commit `id`.
pub fn commit_tree(objects: &Objects, id: &oid) -> Result<ObjectId> {
    use gix::objs::FindExt;
    let mut buf = Vec::new();
    let mut commit = objects.find_commit_iter(id, &mut buf)?;
    commit.tree_id()
}
