//! Fuzzes both frame decoders with arbitrary line bytes: they must never panic, and must
//! always either wait for more bytes or consume at least one byte and at most the buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shtrih_proto::frame::{self, v2 as frame2};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let frame::Decoded::Frame { consumed, .. } | frame::Decoded::Garbage { skipped: consumed } =
        frame::decode(rest)
    {
        assert!(consumed > 0 && consumed <= rest.len());
        rest = &rest[consumed..];
    }
    let mut rest = data;
    while let frame2::Decoded2::Packet { consumed, .. }
    | frame2::Decoded2::Garbage { skipped: consumed } = frame2::decode(rest)
    {
        assert!(consumed > 0 && consumed <= rest.len());
        rest = &rest[consumed..];
    }
});
