//! Fuzz target: `tidestore::fuzz_support::import_ion` (see that function for its promises).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidestore::fuzz_support::import_ion(data);
});
