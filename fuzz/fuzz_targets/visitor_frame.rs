#![no_main]
//! `baton::fuzzing::visitor_frame`: the parser and the properties it keeps are there.

libfuzzer_sys::fuzz_target!(|data: &[u8]| baton::fuzzing::visitor_frame(data));
