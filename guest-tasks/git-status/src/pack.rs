//! One pack, whose objects are read by byte range instead of whole.
//!
//! Under WASI a pack cannot be mapped (see `objects.rs`), and reading the
//! whole `.pack` to get at one commit costs its full size in time and
//! memory (tens of megabytes for a modest repository, more than the task's
//! memory budget for a large one). The `.idx` gives each object's offset;
//! an entry's compressed size is bounded by its decompressed size (zlib's
//! `compressBound`), so one or two positioned reads get all of it. Delta
//! chains are followed with further reads and applied here, since gix-pack
//! applies deltas only to a pack held in memory.

use std::cell::OnceCell;
use std::fs::File;
use std::path::{Path, PathBuf};

use gix::hash::{Kind as HashKind, oid};
use gix::objs::Kind;
use gix_pack::data::entry::Header;

use crate::read_error::{corrupt, io_error};

type Result<T> = gix::Result<T>;

/// How much to read at an entry's offset before its size is known; most
/// commits and trees of a prompt-sized repository fit.
const FIRST_READ: usize = 4096;

/// Longest delta chain followed; git's default `--depth` is 50.
const MAX_CHAIN: usize = 10_000;

/// A pack's index, and the `.pack` opened on first use.
pub struct Pack {
    index: gix_pack::index::File<Vec<u8>>,
    data_path: PathBuf,
    data: OnceCell<File>,
}

impl Pack {
    /// Reads the index `idx_path`; its `.pack` is opened when first needed.
    pub fn open(idx_path: &Path, hash: HashKind) -> Result<Pack> {
        let bytes = std::fs::read(idx_path).map_err(|err| io_error(idx_path, err))?;
        let index = gix_pack::index::File::from_data(bytes, idx_path.to_owned(), hash)?;
        Ok(Pack {
            index,
            data_path: idx_path.with_extension("pack"),
            data: OnceCell::new(),
        })
    }

    /// Fills `out` with object `id` if this pack has it.
    pub fn find(&self, id: &oid, out: &mut Vec<u8>) -> Result<Option<Kind>> {
        match self.index.lookup(id) {
            Some(i) => self
                .decode(self.index.pack_offset_at_index(i), out)
                .map(Some),
            None => Ok(None),
        }
    }

    /// Fills `out` with the object whose entry starts at `offset`, following
    /// its delta chain to the base and applying the deltas back up.
    fn decode(&self, mut offset: u64, out: &mut Vec<u8>) -> Result<Kind> {
        let mut deltas = Vec::new();
        let kind = loop {
            let (header, data) = self.entry(offset)?;
            let base = match header {
                Header::OfsDelta { base_distance } => {
                    Header::verified_base_pack_offset(offset, base_distance)
                        .ok_or_else(|| self.corrupt("delta base offset out of range"))?
                }
                Header::RefDelta { base_id } => self
                    .index
                    .lookup(base_id)
                    .map(|i| self.index.pack_offset_at_index(i))
                    .ok_or_else(|| self.corrupt("delta base is not in the same pack"))?,
                base => {
                    *out = data;
                    break base.as_kind().expect("not a delta");
                }
            };
            deltas.push(data);
            if deltas.len() > MAX_CHAIN {
                return Err(self.corrupt("delta chain too long"));
            }
            offset = base;
        };
        let mut result = Vec::new();
        for delta in deltas.iter().rev() {
            apply(out, delta, &mut result).map_err(|what| self.corrupt(what))?;
            std::mem::swap(out, &mut result);
        }
        Ok(kind)
    }

    /// The header of the entry at `offset` and its inflated data.
    fn entry(&self, offset: u64) -> Result<(Header, Vec<u8>)> {
        let file = self.data()?;
        let mut bytes = self.read_at(file, offset, FIRST_READ)?;
        let entry = gix_pack::data::Entry::from_bytes(&bytes, offset, self.index.object_hash())?;
        let size = usize::try_from(entry.decompressed_size)
            .map_err(|_| self.corrupt("object too large"))?;
        let needed = entry.header_size() + compress_bound(size);
        if needed > bytes.len() && bytes.len() == FIRST_READ {
            let rest = self.read_at(file, offset + FIRST_READ as u64, needed - FIRST_READ)?;
            bytes.extend_from_slice(&rest);
        }
        let mut data = vec![0; size];
        if size == 0 {
            // zlib may report an empty stream's end only with room to spare.
            return Ok((entry.header, data));
        }
        let mut inflate = gix_zlib::Inflate::default();
        let (status, _, written) = inflate.once(&bytes[entry.header_size()..], &mut data)?;
        if status != gix_zlib::Status::StreamEnd || written != size {
            return Err(self.corrupt("entry does not inflate to its size"));
        }
        Ok((entry.header, data))
    }

    /// Up to `len` bytes at `offset`, fewer only at the end of the file.
    fn read_at(&self, file: &File, offset: u64, len: usize) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        // A corrupt size must not reserve gigabytes up front.
        let mut bytes = Vec::with_capacity(len.min(1 << 20));
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.take(len as u64).read_to_end(&mut bytes))
            .map_err(|err| io_error(&self.data_path, err))?;
        Ok(bytes)
    }

    fn data(&self) -> Result<&File> {
        if let Some(file) = self.data.get() {
            return Ok(file);
        }
        let file = File::open(&self.data_path).map_err(|err| io_error(&self.data_path, err))?;
        Ok(self.data.get_or_init(|| file))
    }

    fn corrupt(&self, what: &str) -> gix::Error {
        corrupt(&self.data_path, what)
    }
}

/// The most bytes zlib can compress `size` bytes into (zlib's
/// `compressBound`), which bounds the pack entry holding them.
fn compress_bound(size: usize) -> usize {
    size + (size >> 12) + (size >> 14) + (size >> 25) + 13
}

/// Applies git delta `delta` to `base`, writing the result to `out`.
///
/// The format: the base's size and the result's size as little-endian
/// base-128 varints, then instructions, each either a copy from the base
/// (high bit set; the low seven bits say which offset and size bytes follow)
/// or an insert of the next 1..=127 literal bytes (the byte is the count).
fn apply(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), &'static str> {
    let mut i = 0;
    let mut varint = || -> std::result::Result<usize, &'static str> {
        let mut value = 0_usize;
        for shift in (0..64).step_by(7) {
            let byte = *delta.get(i).ok_or("delta header truncated")?;
            i += 1;
            value |= usize::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("delta header too long")
    };
    if varint()? != base.len() {
        return Err("delta base size mismatch");
    }
    let size = varint()?;
    out.clear();
    out.reserve(size);
    while let Some(&op) = delta.get(i) {
        i += 1;
        if op & 0x80 != 0 {
            let mut field =
                |bits: std::ops::Range<u8>| -> std::result::Result<usize, &'static str> {
                    let mut value = 0_usize;
                    for (shift, bit) in bits.enumerate() {
                        if op & (1 << bit) != 0 {
                            let byte = *delta.get(i).ok_or("delta copy truncated")?;
                            i += 1;
                            value |= usize::from(byte) << (8 * shift);
                        }
                    }
                    Ok(value)
                };
            let offset = field(0..4)?;
            let len = match field(4..7)? {
                0 => 0x10000,
                len => len,
            };
            let copied = offset
                .checked_add(len)
                .and_then(|end| base.get(offset..end))
                .ok_or("delta copy outside its base")?;
            out.extend_from_slice(copied);
        } else if op != 0 {
            let inserted = delta
                .get(i..i + usize::from(op))
                .ok_or("delta insert truncated")?;
            i += usize::from(op);
            out.extend_from_slice(inserted);
        } else {
            return Err("delta opcode 0 is reserved");
        }
    }
    if out.len() != size {
        return Err("delta result size mismatch");
    }
    Ok(())
}
