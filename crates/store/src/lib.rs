//! konferenz-store: the only crate that speaks SQL (rooms for now).
