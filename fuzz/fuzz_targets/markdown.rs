#![no_main]
//! `baton::fuzzing::markdown`: the parser and the properties it keeps are there.

libfuzzer_sys::fuzz_target!(|data: &[u8]| baton::fuzzing::markdown(data));
