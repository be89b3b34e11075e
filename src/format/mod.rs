//! Every byte that reaches disk: the codec, log records, table files and the catalog, and
//! the Amazon Ion text of exports and imports (`ion.rs`).

pub(crate) mod backup;
pub(crate) mod catalog;
pub(crate) mod codec;
pub(crate) mod ion;
pub(crate) mod item;
pub(crate) mod log_segment;
pub(crate) mod mutation;
pub(crate) mod schema;
pub(crate) mod table_file;

use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::Vfs;

/// Reads the whole file `path` of a kind whose files are at most `max_len` bytes long (what
/// its format allows): a longer one is corrupt, and refused before anything is allocated
/// for it.
pub(crate) fn read_file(fs: &dyn Vfs, path: &Path, max_len: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    read_file_into(fs, path, max_len, &mut buf)?;
    Ok(buf)
}

/// [`read_file`] into `buf`, reusing its memory.
pub(crate) fn read_file_into(
    fs: &dyn Vfs,
    path: &Path,
    max_len: u64,
    buf: &mut Vec<u8>,
) -> Result<()> {
    crate::fs::read_all_into(fs, path, max_len, buf).map_err(|source| {
        if source.kind() == std::io::ErrorKind::FileTooLarge {
            Error::Corruption(format!("{source}: longer than its format allows"))
        } else {
            Error::Io {
                context: format!("reading {}", path.display()),
                source,
            }
        }
    })
}
