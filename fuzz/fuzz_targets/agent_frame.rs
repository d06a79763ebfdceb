#![no_main]
//! `baton::fuzzing::agent_frame`: the parser and the properties it keeps are there.

libfuzzer_sys::fuzz_target!(|data: &[u8]| baton::fuzzing::agent_frame(data));
