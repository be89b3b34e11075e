//! A hint to the processor that some memory will be read soon.
//!
//! A replay collects the log's writes in log order and reads them back in key order
//! (`storage/last_writes.rs`, the merge in `storage/replay.rs`): each read lands somewhere
//! in tens of megabytes, a cache miss and, on a virtual machine, a TLB miss whose page walk
//! goes through two levels of tables. One at a time, those misses were about a tenth of a
//! backup's CPU. Naming the memory [`AHEAD`] reads in advance lets the misses overlap.

/// How many reads ahead a reader in key order prefetches.
pub(crate) const AHEAD: usize = 16;

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
