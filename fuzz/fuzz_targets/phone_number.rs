//! Fuzz target: a phone number as people type or export it
//! (`konferenz_conference::PhoneNumber::parse`; API bodies, phone-book imports, dial-out).
//! Byte 0 picks the default country, the rest is the text. A number read is E.164 and
//! reads back to itself.
#![no_main]

use konferenz_conference::PhoneNumber;
use libfuzzer_sys::fuzz_target;

const REGIONS: [&str; 8] = ["CH", "DE", "AT", "FR", "IT", "GB", "US", "xx"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let region = REGIONS[usize::from(pick) % REGIONS.len()];
    let Ok(number) = PhoneNumber::parse(text, region) else {
        return;
    };
    assert_eq!(
        PhoneNumber::from_e164(number.as_str()).as_ref(),
        Ok(&number)
    );
    assert_eq!(
        PhoneNumber::parse(number.as_str(), region).as_ref(),
        Ok(&number),
        "{text:?} in {region}"
    );
});
