//! Fuzz target: `tidestore::fuzz_support::wire_request` (see that function's module for its
//! promises): one structure-aware HTTP request to an in-process `tidestore serve`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidestore::fuzz_support::wire_request(data);
});
