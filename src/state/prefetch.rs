//! A hint to the processor that some memory will be read soon.
//!
//! A search of a live table's leaf (`state/items.rs`) binary-searches up to 32 entries
//! spread over 20 cache lines, in a table of tens of megabytes: each probe waits for the
//! line the one before chose, five misses in a row. Asking for all of the leaf's lines
//! first ([`prefetch_all`]) makes them one wait.
//!
//! A replay collects the log's writes in log order and reads them back in key order
//! (`storage/last_writes.rs`, the merge in `storage/replay.rs`): each read lands somewhere
//! in tens of megabytes, a cache miss and, on a virtual machine, a TLB miss whose page walk
//! goes through two levels of tables. One at a time, those misses were about a tenth of a
//! backup's CPU. Naming the memory [`AHEAD`] reads in advance lets the misses overlap.

/// How many reads ahead a reader in key order prefetches.
pub(crate) const AHEAD: usize = 16;

/// The size of a cache line on the processors tidestore runs on.
const LINE: usize = 64;

/// Asks the processor to start loading every cache line of `values`. A hint, as
/// [`prefetch`].
pub(crate) fn prefetch_all<T>(values: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let start: *const i8 = values.as_ptr().cast();
        for offset in (0..std::mem::size_of_val(values)).step_by(LINE) {
            #[allow(unsafe_code)]
            // SAFETY: as `prefetch`'s; the address is inside `values` besides.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (values, LINE);
}

/// Asks the processor to start loading the first and the last cache line of `value`
/// (most values read so are shorter than two lines). A hint: nothing is read or written,
/// and it does nothing where no prefetch instruction is known.
pub(crate) fn prefetch<T: ?Sized>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let first: *const i8 = (value as *const T).cast();
        let last = first.wrapping_add(std::mem::size_of_val(value).saturating_sub(1));
        #[allow(unsafe_code)]
        // SAFETY: a prefetch never faults and changes nothing a program can observe, for
        // any address; SSE, which provides it, is part of every x86_64 processor.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(first);
            _mm_prefetch::<_MM_HINT_T0>(last);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
