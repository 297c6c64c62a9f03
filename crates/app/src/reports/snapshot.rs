//! The on-disk snapshot of a project's visit columns, so the first report
//! of a fresh process reads one file instead of millions of rows.
//!
//! `DATA/report-index/project-<id>.bin` holds what [`Visits`] keeps:
//! visit ids, start times, interned visitors and dimensions, and the
//! interned tables themselves (each visitor's id hash, each dimension set's
//! values). It is a cache, never the truth:
//!
//! - a header names the format version, the project, the number of visits,
//!   the highest visit id and a CRC-32 of the body; a file that does not
//!   match in every point is ignored (and rebuilt from rows);
//! - after loading, the index re-reads the rows from the snapshot's
//!   `rescan_from` id (at least the last [`LATE_COMMIT_IDS`] ids): rows the
//!   snapshot missed (late commits) are added, and every row the snapshot
//!   has must match the store — a row that differs, or a highest id the
//!   store no longer has, discards the snapshot;
//! - it is written to a temporary file and renamed over the old one, so a
//!   reader sees a whole old or a whole new file; it is not fsynced (a
//!   file torn by a power loss fails its checksum and is rebuilt).
//!
//! The format is hand-rolled little-endian columns rather than a serde
//! format: the columns are read back with `from_le_bytes` over whole
//! slices, which is what makes loading two million visits take tens of
//! milliseconds.
//!
//! [`LATE_COMMIT_IDS`]: super::index::LATE_COMMIT_IDS

use super::index::{visitor_key, Visits};
use skvoz_domain::ProjectId;
use std::path::{Path, PathBuf};

/// The first bytes of a snapshot file.
const MAGIC: &[u8; 8] = b"SKVZRIX\0";

/// Bumped whenever the layout or the meaning of a column changes (the
/// visitor hash, the dimension order, the channel rules of stored visits):
/// files of another version are ignored.
const FORMAT_VERSION: u32 = 1;

/// Header: magic, version, hash probe, project, visits, max id,
/// rescan-from id, visitors, dimension sets, body length, body CRC.
const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 8 + 4;

/// The visitor key of a fixed string: a snapshot made with another hash
/// function (a dependency upgrade) names visitors by other keys and is
/// ignored.
fn hash_probe() -> u64 {
    visitor_key("skvoz report index")
}

/// Longest dimension value a snapshot may hold (stored values are far
/// shorter; a longer one means a corrupt file).
const MAX_VALUE_LEN: usize = 1 << 20;

/// Where a project's snapshot lives in `dir`.
pub(crate) fn path(dir: &Path, project: ProjectId) -> PathBuf {
    dir.join(format!("project-{}.bin", project.0))
}

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SnapshotError {
    /// The file could not be read (missing is the common case).
    #[error("cannot read the snapshot: {0}")]
    Io(#[from] std::io::Error),
    /// Not a snapshot of this format and project, or damaged.
    #[error("snapshot rejected: {0}")]
    Invalid(&'static str),
}

/// A decoded snapshot, ready to become a project's visit columns.
pub(crate) struct Loaded {
    /// The columns and interned tables.
    pub visits: Visits,
    /// The highest visit id the snapshot holds.
    pub max_id: i64,
    /// Rows from this id on are re-read and checked after loading.
    pub rescan_from: i64,
}

/// Encodes `visits` of `project`; rows from `rescan_from` on will be
/// re-read by whoever loads it.
pub(crate) fn encode(project: ProjectId, visits: &Visits, rescan_from: i64) -> Vec<u8> {
    let n = visits.ids.len();
    let hashes = visits.visitor_keys();
    let mut body = Vec::with_capacity(n * 24 + hashes.len() * 8 + visits.dims.len() * 64);
    for &id in &visits.ids {
        body.extend_from_slice(&id.to_le_bytes());
    }
    for &at in &visits.at {
        body.extend_from_slice(&at.to_le_bytes());
    }
    for &v in &visits.visitor {
        body.extend_from_slice(&v.to_le_bytes());
    }
    for &d in &visits.dim {
        body.extend_from_slice(&d.to_le_bytes());
    }
    for h in hashes {
        body.extend_from_slice(&h.to_le_bytes());
    }
    for d in &visits.dims {
        for v in &d.values {
            body.extend_from_slice(&(v.len() as u32).to_le_bytes());
            body.extend_from_slice(v.as_bytes());
        }
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&hash_probe().to_le_bytes());
    out.extend_from_slice(&project.0.to_le_bytes());
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&visits.ids.last().copied().unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&rescan_from.to_le_bytes());
    out.extend_from_slice(&(hashes.len() as u32).to_le_bytes());
    out.extend_from_slice(&(visits.dims.len() as u32).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads little-endian fields off the front of a byte slice.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], SnapshotError> {
        if self.rest.len() < len {
            return Err(SnapshotError::Invalid("truncated"));
        }
        let (head, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// `count` values of `N` bytes each, decoded by `f`.
    fn column<T, const N: usize>(
        &mut self,
        count: usize,
        f: fn([u8; N]) -> T,
    ) -> Result<Vec<T>, SnapshotError> {
        let bytes = self.take(
            count
                .checked_mul(N)
                .ok_or(SnapshotError::Invalid("too many rows"))?,
        )?;
        Ok(bytes
            .chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                f(a)
            })
            .collect())
    }
}

/// Decodes a snapshot of `project`, checking everything a report relies on
/// (ids ascending, every interned reference in range).
pub(crate) fn decode(project: ProjectId, bytes: &[u8]) -> Result<Loaded, SnapshotError> {
    let mut r = Reader { rest: bytes };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(SnapshotError::Invalid("not a report index snapshot"));
    }
    if r.u32()? != FORMAT_VERSION {
        return Err(SnapshotError::Invalid("another format version"));
    }
    if r.u64()? != hash_probe() {
        return Err(SnapshotError::Invalid("another visitor hash"));
    }
    if r.i64()? != project.0 {
        return Err(SnapshotError::Invalid("another project's snapshot"));
    }
    let n = usize::try_from(r.u64()?).map_err(|_| SnapshotError::Invalid("too many rows"))?;
    let max_id = r.i64()?;
    let rescan_from = r.i64()?;
    let visitors = r.u32()?;
    let ndims = r.u32()?;
    let body_len = r.u64()?;
    let crc = r.u32()?;
    if body_len != r.rest.len() as u64 {
        return Err(SnapshotError::Invalid("wrong length"));
    }
    if crc32fast::hash(r.rest) != crc {
        return Err(SnapshotError::Invalid("checksum mismatch"));
    }
    let ids = r.column(n, i64::from_le_bytes)?;
    let at = r.column(n, i64::from_le_bytes)?;
    let visitor = r.column(n, u32::from_le_bytes)?;
    let dim = r.column(n, u32::from_le_bytes)?;
    let hashes = r.column(visitors as usize, u64::from_le_bytes)?;
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(SnapshotError::Invalid("visit ids out of order"));
    }
    if ids.last().copied().unwrap_or(0) != max_id || rescan_from > max_id {
        return Err(SnapshotError::Invalid("highest id does not match"));
    }
    if visitor.iter().any(|&v| v >= visitors) || dim.iter().any(|&d| d >= ndims) {
        return Err(SnapshotError::Invalid("reference out of range"));
    }
    let mut visits = Visits::default();
    for _ in 0..ndims {
        let mut values: [&str; 6] = [""; 6];
        for v in &mut values {
            let len = r.u32()? as usize;
            if len > MAX_VALUE_LEN {
                return Err(SnapshotError::Invalid("dimension value too long"));
            }
            *v = std::str::from_utf8(r.take(len)?)
                .map_err(|_| SnapshotError::Invalid("dimension value not UTF-8"))?;
        }
        visits.intern_dims(values);
    }
    if visits.dims.len() != ndims as usize {
        return Err(SnapshotError::Invalid("duplicate dimension sets"));
    }
    if !r.rest.is_empty() {
        return Err(SnapshotError::Invalid("trailing bytes"));
    }
    visits
        .restore(ids, at, visitor, dim, &hashes)
        .map_err(SnapshotError::Invalid)?;
    Ok(Loaded {
        visits,
        max_id,
        rescan_from,
    })
}

/// Reads and decodes `dir`'s snapshot of `project`.
pub(crate) fn load(dir: &Path, project: ProjectId) -> Result<Loaded, SnapshotError> {
    let bytes = std::fs::read(path(dir, project))?;
    decode(project, &bytes)
}

/// Writes `bytes` as `dir`'s snapshot of `project`: a temporary file (unique
/// to this process and call) renamed over the old one.
pub(crate) fn store(dir: &Path, project: ProjectId, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = path(dir, project);
    let tmp = dir.join(format!(
        "project-{}.bin.{}.{:016x}.tmp",
        project.0,
        std::process::id(),
        rand::random::<u64>()
    ));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use skvoz_store::VisitRow;

    fn row<'a>(id: i64, vid: &'a str, at: i64, source: &'a str) -> VisitRow<'a> {
        VisitRow {
            id,
            vid,
            started_at_ms: at,
            channel: "paid search",
            source,
            medium: "cpc",
            campaign: Some("spring"),
            content: None,
            term: Some("шины"),
        }
    }

    fn sample() -> Visits {
        let mut v = Visits::default();
        let sources = ["yandex", "google", "vk"];
        for i in 1..=500i64 {
            let vid = format!("v{}", i % 37);
            v.push(row(
                i * 2,
                &vid,
                1_700_000_000_000 + i * 60_000,
                sources[i as usize % 3],
            ));
        }
        v
    }

    #[test]
    fn columns_and_interned_tables_round_trip() {
        let v = sample();
        let bytes = encode(ProjectId(7), &v, 900);
        let loaded = decode(ProjectId(7), &bytes).expect("decodes");
        assert_eq!(loaded.max_id, 1000);
        assert_eq!(loaded.rescan_from, 900);
        let w = loaded.visits;
        assert_eq!(w.ids, v.ids);
        assert_eq!(w.at, v.at);
        assert_eq!(w.visitor, v.visitor);
        assert_eq!(w.dim, v.dim);
        assert_eq!(w.dims, v.dims);
        assert_eq!(w.visitor_keys().len(), 37);
        assert_eq!(w.visitor_keys(), v.visitor_keys());
        for i in [0usize, 17, 499] {
            let vid = format!("v{}", (i + 1) % 37);
            assert_eq!(w.visitor_of(visitor_key(&vid)), Some(w.visitor[i]));
        }
    }

    #[test]
    fn another_project_a_flipped_bit_or_a_short_file_is_refused() {
        let bytes = encode(ProjectId(7), &sample(), 0);
        assert!(matches!(
            decode(ProjectId(8), &bytes),
            Err(SnapshotError::Invalid("another project's snapshot"))
        ));
        for i in [HEADER_LEN, HEADER_LEN + 100, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[i] ^= 1;
            assert!(
                matches!(
                    decode(ProjectId(7), &b),
                    Err(SnapshotError::Invalid("checksum mismatch"))
                ),
                "byte {i}"
            );
        }
        for len in [0, 7, HEADER_LEN - 1, HEADER_LEN, bytes.len() - 1] {
            assert!(decode(ProjectId(7), &bytes[..len]).is_err(), "{len} bytes");
        }
        let mut other_version = bytes.clone();
        other_version[8] ^= 0xff;
        assert!(decode(ProjectId(7), &other_version).is_err());
    }

    #[test]
    fn a_well_formed_body_with_a_reference_out_of_range_is_refused() {
        let v = sample();
        let mut bytes = encode(ProjectId(7), &v, 0);
        // The first visitor reference (after the ids and times) points past
        // the visitors; the checksum is made to match.
        let at = HEADER_LEN + v.ids.len() * 16;
        bytes[at..at + 4].copy_from_slice(&1_000u32.to_le_bytes());
        let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
        bytes[HEADER_LEN - 4..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode(ProjectId(7), &bytes),
            Err(SnapshotError::Invalid("reference out of range"))
        ));
    }

    #[test]
    fn store_replaces_the_file_whole_and_load_reads_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let v = sample();
        store(dir.path(), ProjectId(3), &encode(ProjectId(3), &v, 10)).expect("store");
        store(dir.path(), ProjectId(3), &encode(ProjectId(3), &v, 20)).expect("store");
        let loaded = load(dir.path(), ProjectId(3)).expect("load");
        assert_eq!(loaded.rescan_from, 20);
        assert_eq!(loaded.visits.ids, v.ids);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("project-3.bin")]);
        assert!(matches!(
            load(dir.path(), ProjectId(4)),
            Err(SnapshotError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
    }
}
