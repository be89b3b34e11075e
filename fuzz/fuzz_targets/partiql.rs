//! Fuzz target: `tidestore::fuzz_support::partiql` (see that function's module for its
//! promises): PartiQL statements from a grammar, run by `tidestore serve`'s handlers in this
//! process against a model of the tables.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tidestore::fuzz_support::partiql(data);
});
