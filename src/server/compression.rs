//! An import's `InputCompressionType`: how each file of an `ImportTable` is decompressed
//! before its format's reader (`import.rs` for DynamoDB JSON, `import/csv.rs`,
//! `format/ion.rs`) sees its bytes. DynamoDB's developer guide ("DynamoDB data import from
//! Amazon S3: how it works"): data "can be compressed in ZSTD or GZIP format, or can be
//! directly imported in uncompressed form"; the request names the compression, not the
//! files' extensions, so every file under the prefix is decoded the same way.
//!
//! **Bounded whatever the file says.** The decompressed bytes are never held whole: they
//! stream into the format's reader, which keeps at most one line or value of
//! [`MAX_IMPORT_LINE_BYTES`](crate::api::imports::MAX_IMPORT_LINE_BYTES) and skips the rest
//! of a longer one. So a bomb (a small file that inflates to terabytes) costs reading time,
//! never memory: its over-long line is one item in error, and a server's stop cancels the
//! import between two reads. GZIP and ZSTD share that path ([`Compression::decoder`] is
//! the one place that picks the decoder). What a decoder holds itself is bounded too:
//! DEFLATE's window is 32 KiB, and a ZSTD frame declares its window, which the decoder
//! allocates: one past [`MAX_ZSTD_WINDOW`] is refused before anything is allocated.
//!
//! **Damage.** A file that is not its compression (a bad magic, a cut frame, a corrupt
//! block, a checksum that does not match, a frame whose content is not the size its header
//! declares) is an I/O error of the read, which fails the import as a corrupt GZIP file
//! does: FAILED, no table made. The declared size matters without a checksum (`zstd
//! --no-check` writes none): ruzstd neither checks it nor stops at it, so a frame that
//! declares 1 KB and inflates to terabytes is damage at its 1,025th byte, not after
//! them. (ruzstd reads an absent size and a declared 0 alike, as 0: such frames are
//! bounded by the format readers only.)
//!
//! A ZSTD file (RFC 8878) is frames one after another, as the `zstd` tool reads it
//! (`cat a.zst b.zst` decodes to both contents):
//!
//! ```text
//!   file       [ frame | frame | … ]                  at least one
//!   frame      [ magic 28 B5 2F FD (4) | frame header (2–14) | block … last block |
//!                content checksum, xxHash64's low 32 bits LE (4, if the header says so) ]
//!   skippable  [ magic 50..5F 2A 4D 18 (4) | length u32 LE (4) | length bytes, ignored ]
//! ```

use std::io::{BufRead, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// The largest window a ZSTD frame may ask for: 128 MiB (window log 27), the limit the
/// `zstd` tool itself decodes without `--memory`, and ruzstd's default. Every level of the
/// `zstd` tool, `--ultra -22` and `--long` included, writes frames within it.
pub(crate) const MAX_ZSTD_WINDOW: u64 = 1 << 27;

/// The first bytes of a ZSTD frame (its magic number, little-endian): how the fuzz
/// harnesses of the imports tell a ZSTD input (`fuzz_support.rs`).
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// An import's `InputCompressionType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression the request's `InputCompressionType` names (the model's enum).
    pub(crate) fn from_name(name: &str) -> Option<Compression> {
        match name {
            "NONE" => Some(Compression::None),
            "GZIP" => Some(Compression::Gzip),
            "ZSTD" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The decompressed bytes of one file read from `source`.
    pub(crate) fn decoder<'a>(self, source: impl BufRead + Send + 'a) -> Box<dyn Read + Send + 'a> {
        match self {
            Compression::None => Box::new(source),
            // Gzip allows several members one after another; the file is all of them.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(source)),
            Compression::Zstd => Box::new(ZstdFrames::new(source)),
        }
    }
}

/// The decompressed bytes of a ZSTD file: every frame in turn, skippable frames skipped,
/// each frame's content checksum checked (ruzstd reads it but leaves the comparison to its
/// caller). An empty file, or bytes after a frame that do not start another, are damage.
pub(crate) struct ZstdFrames<R> {
    source: R,
    decoder: FrameDecoder,
    /// Inside a frame (between its header and its end, or while its bytes are drained).
    in_frame: bool,
    /// Whether a frame (of either kind) has been read: an empty file is not ZSTD.
    any_frame: bool,
    /// The content size the current frame's header declares, if it declares one.
    declared: Option<u64>,
    /// The bytes of the current frame's content handed over so far.
    handed_over: u64,
}

impl<R: BufRead> ZstdFrames<R> {
    /// A reader of the ZSTD file `source`.
    pub(crate) fn new(source: R) -> ZstdFrames<R> {
        let mut decoder = FrameDecoder::new();
        decoder.set_max_window_size(MAX_ZSTD_WINDOW);
        ZstdFrames {
            source,
            decoder,
            in_frame: false,
            any_frame: false,
            declared: None,
            handed_over: 0,
        }
    }

    /// Starts the next frame, skipping skippable ones; `false` at the end of the file.
    fn next_frame(&mut self) -> std::io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return match self.any_frame {
                    true => Ok(false),
                    false => Err(damaged("the file is empty")),
                };
            }
            self.any_frame = true;
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(
                    ReadFrameHeaderError::SkipFrame { length, .. },
                )) => {
                    let skipped =
                        std::io::copy(&mut (&mut self.source).take(length.into()), &mut std::io::sink())?;
                    if skipped < u64::from(length) {
                        return Err(damaged("a skippable frame is cut short"));
                    }
                }
                Err(FrameDecoderError::WindowSizeTooBig { requested, .. }) => {
                    return Err(damaged(&format!(
                        "a frame asks for a window of {requested} bytes, more than the {MAX_ZSTD_WINDOW} tidestore decodes"
                    )))
                }
                Err(FrameDecoderError::ReadFrameHeaderError(
                    ReadFrameHeaderError::BadMagicNumber(_),
                )) => {
                    return Err(damaged(
                        "a frame does not start with ZSTD's magic number 28 B5 2F FD",
                    ))
                }
                Err(e) => return Err(frame_error(&e)),
            }
        }
    }

    /// At a frame's end, once all of it was read: its size against the one its header
    /// declares, and its checksum against its content's.
    fn check_frame(&self) -> std::io::Result<()> {
        if self
            .declared
            .is_some_and(|declared| self.handed_over < declared)
        {
            return Err(damaged(
                "a frame's content is shorter than the size its header declares",
            ));
        }
        match (
            self.decoder.get_checksum_from_data(),
            self.decoder.get_calculated_checksum(),
        ) {
            (Some(written), Some(computed)) if written != computed => {
                Err(damaged("a frame's content does not match its checksum"))
            }
            _ => Ok(()),
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
                self.declared = Some(self.decoder.content_size()).filter(|&size| size > 0);
                self.handed_over = 0;
            }
            // Blocks are decoded until some bytes can be handed over (those beyond the
            // window, which later blocks may still copy from) or the frame ends.
            while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(|e| frame_error(&e))?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                self.handed_over += n as u64;
                if self
                    .declared
                    .is_some_and(|declared| self.handed_over > declared)
                {
                    return Err(damaged(
                        "a frame's content is longer than the size its header declares",
                    ));
                }
                return Ok(n);
            }
            // Finished and drained: the frame is whole.
            self.check_frame()?;
            self.in_frame = false;
        }
    }
}

/// `e`, met inside a frame, as the error of the read. ruzstd wraps the source's read errors
/// in its own (their `source()` chain leads to them): a file that ends there is said to be
/// cut short; any other error of the source's (a disk's, or the server's stop cancelling the
/// import) is the read's error as it was, not damage; anything else is a corrupt frame.
fn frame_error(e: &FrameDecoderError) -> std::io::Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = cause {
        if let Some(read) = error.downcast_ref::<std::io::Error>() {
            return match read.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    damaged("the file ends inside a frame: it was cut short")
                }
                kind => std::io::Error::new(kind, read.to_string()),
            };
        }
        cause = error.source();
    }
    damaged(&format!("a frame is corrupt: {e}"))
}

/// The error of a read of a ZSTD file that is not one (a message of tidestore's own:
/// DynamoDB's for a damaged object was not found).
fn damaged(why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("not a valid ZSTD file: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{compress_to_vec, CompressionLevel};

    fn zstd(bytes: &[u8]) -> Vec<u8> {
        compress_to_vec(bytes, CompressionLevel::Fastest)
    }

    fn decode(file: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Compression::Zstd.decoder(file).read_to_end(&mut out)?;
        Ok(out)
    }

    /// A skippable frame of `length` bytes of content.
    fn skippable(length: u32) -> Vec<u8> {
        let mut frame = vec![0x5A, 0x2A, 0x4D, 0x18];
        frame.extend_from_slice(&length.to_le_bytes());
        frame.extend(std::iter::repeat_n(7u8, length as usize));
        frame
    }

    #[test]
    fn frames_one_after_another_decode_to_their_contents_and_skippable_ones_to_nothing() {
        let first: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let second = b"{\"Item\": {\"pk\": {\"S\": \"b\"}}}\n".repeat(1000);
        let file = [
            zstd(&first),
            skippable(9),
            zstd(b""),
            zstd(&second),
            skippable(0),
        ]
        .concat();
        assert_eq!(decode(&file).expect("decodes"), [first, second].concat());
        assert_eq!(decode(&skippable(3)).expect("decodes"), b"");
    }

    /// A frame the `zstd` tool wrote (v1.5.4, `-19 --check`: compressed blocks with
    /// repeat offsets, and a checksum) decodes to its content.
    #[test]
    fn a_frame_of_the_zstd_tool_decodes() {
        let file = [
            0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x68, 0x35, 0x01, 0x00, 0xc8, 0x7b, 0x22, 0x49, 0x74,
            0x65, 0x6d, 0x22, 0x3a, 0x20, 0x7b, 0x22, 0x70, 0x6b, 0x53, 0x22, 0x3a, 0x20, 0x22,
            0x61, 0x22, 0x7d, 0x7d, 0x7d, 0x0a, 0x62, 0x04, 0x00, 0x5d, 0x5d, 0x00, 0xc2, 0x05,
            0xaa, 0x7a, 0x12, 0xca, 0x17, 0x83, 0x3a, 0xef, 0x23,
        ];
        let line = |k: &str| format!("{{\"Item\": {{\"pk\": {{\"S\": \"{k}\"}}}}}}\n");
        let text = [line("a"), line("b"), line("a")].concat();
        assert_eq!(decode(&file).expect("decodes"), text.as_bytes());
    }

    /// Cut anywhere but between two frames, a file fails to decode (never a shorter
    /// content read as whole); empty, it is no ZSTD file either.
    #[test]
    fn a_file_cut_short_anywhere_inside_a_frame_is_damage() {
        let one = zstd(&b"abcdefgh".repeat(5000));
        let file = [one.clone(), one.clone()].concat();
        for end in 0..file.len() {
            let decoded = decode(&file[..end]);
            if end == one.len() {
                assert_eq!(decoded.expect("one whole frame"), b"abcdefgh".repeat(5000));
            } else {
                let error = decoded.expect_err(&format!("cut at {end}"));
                assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}");
                if end > 0 && end != one.len() + 1 {
                    assert!(error.to_string().contains("cut short"), "at {end}: {error}");
                }
            }
        }
        assert!(
            decode(&skippable(10)[..12]).is_err(),
            "a cut skippable frame"
        );
    }

    /// The content checksum is checked: a frame whose content was changed in a way its
    /// blocks still decode (a raw block's byte) fails at its end.
    #[test]
    fn a_frame_whose_content_does_not_match_its_checksum_is_damage() {
        // Uncompressed: the content is in the file as it is, in a raw block.
        let file = compress_to_vec(&b"0123456789"[..], CompressionLevel::Uncompressed);
        let at = file
            .windows(10)
            .position(|w| w == b"0123456789")
            .expect("raw");
        let mut bad = file.clone();
        bad[at + 3] = b'x';
        let error = decode(&bad).expect_err("a checksum mismatch");
        assert!(error.to_string().contains("checksum"), "{error}");
        assert_eq!(decode(&file).expect("decodes"), b"0123456789");
    }

    /// A frame asking for a window past [`MAX_ZSTD_WINDOW`] is refused from its header,
    /// before the window is allocated; one at the bound is not.
    #[test]
    fn a_frame_asking_for_a_window_past_the_bound_is_refused() {
        // Frame header descriptor 0x00: no single segment, so a window descriptor follows;
        // its exponent (top 5 bits) + 10 is the window log. Then one empty raw last block.
        let frame = |window_log: u8| {
            let mut f = ZSTD_MAGIC.to_vec();
            f.extend_from_slice(&[0x00, (window_log - 10) << 3]);
            f.extend_from_slice(&[0x01, 0x00, 0x00]);
            f
        };
        assert_eq!(decode(&frame(27)).expect("at the bound"), b"");
        let error = decode(&frame(28)).expect_err("past the bound");
        assert!(error.to_string().contains("window"), "{error}");
    }

    /// A frame's content must be the size its header declares, checksum or not: one
    /// longer is refused at the first byte past it, one shorter at its end.
    #[test]
    fn a_frame_whose_content_is_not_its_declared_size_is_damage() {
        // Frame header descriptor 0x40: a 2-byte content size (the value + 256), no single
        // segment, no checksum; window descriptor 0x00 (1 KiB). Then one raw last block
        // of 300 bytes: block header `last | raw << 1 | size << 3`, 3 bytes LE.
        let content: Vec<u8> = (0..300u32).map(|i| (i % 7) as u8).collect();
        let frame = |declared: u16| {
            let mut f = ZSTD_MAGIC.to_vec();
            f.extend_from_slice(&[0x40, 0x00]);
            f.extend_from_slice(&(declared - 256).to_le_bytes());
            f.extend_from_slice(&(1u32 | (300 << 3)).to_le_bytes()[..3]);
            f.extend_from_slice(&content);
            f
        };
        assert_eq!(decode(&frame(300)).expect("as declared"), content);
        let longer = decode(&frame(299)).expect_err("more than declared");
        assert!(
            longer.to_string().contains("longer than the size"),
            "{longer}"
        );
        let shorter = decode(&frame(301)).expect_err("less than declared");
        assert!(
            shorter.to_string().contains("shorter than the size"),
            "{shorter}"
        );
    }

    #[test]
    fn bytes_that_are_not_zstd_are_damage() {
        for file in [&b""[..], b"{\"Item\": {}}\n", &ZSTD_MAGIC[..3]] {
            let error = decode(file).expect_err("not ZSTD");
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        }
        let trailing = [zstd(b"x"), b"garbage".to_vec()].concat();
        assert!(decode(&trailing).is_err(), "bytes after a frame");
    }

    #[test]
    fn names_are_the_models() {
        for (name, compression) in [
            ("NONE", Compression::None),
            ("GZIP", Compression::Gzip),
            ("ZSTD", Compression::Zstd),
        ] {
            assert_eq!(Compression::from_name(name), Some(compression));
        }
        assert_eq!(Compression::from_name("zstd"), None);
    }
}
