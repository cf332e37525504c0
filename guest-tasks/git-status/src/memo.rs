//! What one run keeps for the next in its private state: the listing it
//! found, with the change-feed cursor taken before it looked, and the work
//! tree and options it holds for.
//!
//! The state is only a hint: a file that is missing, truncated, padded,
//! of another version or altered in any byte fails its SHA-1 check or its
//! parse and is ignored (the next run lists everything), never half-used.

use gix::bstr::BString;

use crate::counts::{Line, Listing};

const MAGIC: &[u8] = b"corral git-status listing v1\n";
const CHECKSUM_LEN: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo {
    pub cursor: String,
    pub worktree: String,
    pub max_index_entries: u64,
    pub listing: Listing,
}

impl Memo {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_bytes(&mut out, self.cursor.as_bytes());
        put_bytes(&mut out, self.worktree.as_bytes());
        out.extend_from_slice(&self.max_index_entries.to_le_bytes());
        let mut lines: Vec<(&BString, &Line)> = self.listing.lines.iter().collect();
        lines.sort_by(|a, b| a.0.cmp(b.0));
        put_len(&mut out, lines.len());
        for (path, line) in lines {
            out.push(
                u8::from(line.staged)
                    | u8::from(line.unstaged) << 1
                    | u8::from(line.conflicted) << 2,
            );
            put_bytes(&mut out, path);
        }
        put_len(&mut out, self.listing.untracked.len());
        for path in &self.listing.untracked {
            put_bytes(&mut out, path);
        }
        let checksum = sha1(&out);
        out.extend_from_slice(&checksum);
        out
    }

    /// The memo in `bytes`, if they are one, whole and unaltered.
    pub fn decode(bytes: &[u8]) -> Option<Memo> {
        let (body, checksum) = bytes.split_at_checked(bytes.len().checked_sub(CHECKSUM_LEN)?)?;
        if sha1(body) != checksum {
            return None;
        }
        let mut reader = Reader(body.strip_prefix(MAGIC)?);
        let cursor = String::from_utf8(reader.bytes()?.to_vec()).ok()?;
        let worktree = String::from_utf8(reader.bytes()?.to_vec()).ok()?;
        let max_index_entries = u64::from_le_bytes(reader.take(8)?.try_into().ok()?);
        let mut listing = Listing::default();
        for _ in 0..reader.len()? {
            let flags = reader.take(1)?[0];
            if flags > 0b111 {
                return None;
            }
            let line = Line {
                staged: flags & 1 != 0,
                unstaged: flags & 2 != 0,
                conflicted: flags & 4 != 0,
            };
            listing.lines.insert(reader.bytes()?.into(), line);
        }
        for _ in 0..reader.len()? {
            listing.untracked.push(reader.bytes()?.into());
        }
        reader.0.is_empty().then_some(Memo {
            cursor,
            worktree,
            max_index_entries,
            listing,
        })
    }
}

fn sha1(bytes: &[u8]) -> Vec<u8> {
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(bytes);
    hasher
        .try_finalize()
        .map_or_else(|_| Vec::new(), |id| id.as_bytes().to_vec())
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn len(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo() -> Memo {
        let mut listing = Listing::default();
        listing.lines.insert(
            "a b\nc".into(),
            Line {
                staged: true,
                unstaged: false,
                conflicted: true,
            },
        );
        listing.untracked.push("dir/".into());
        Memo {
            cursor: "c.1".into(),
            worktree: "/w".into(),
            max_index_entries: 7,
            listing,
        }
    }

    #[test]
    fn round_trips_and_refuses_every_truncation_and_any_altered_byte() {
        let bytes = memo().encode();
        assert_eq!(Memo::decode(&bytes), Some(memo()));
        for len in 0..bytes.len() {
            assert_eq!(Memo::decode(&bytes[..len]), None, "truncated to {len}");
        }
        for at in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[at] ^= 0x40;
            assert_eq!(Memo::decode(&altered), None, "byte {at} altered");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(Memo::decode(&padded), None);
        assert_eq!(Memo::decode(b"garbage"), None);
    }
}
