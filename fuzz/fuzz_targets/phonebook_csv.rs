//! Fuzz target: an uploaded CSV file through the phone-book import
//! (`konferenz_conference::phonebook::import` with `Format::Csv`, default country CH).
#![no_main]

use konferenz_conference::phonebook::{Format, import};
use libfuzzer_sys::fuzz_target;

#[path = "phonebook_check.rs"]
mod phonebook_check;

fuzz_target!(|data: &[u8]| {
    let result = import(data, Format::Csv, "CH");
    phonebook_check::check(result);
});
