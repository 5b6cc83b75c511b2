//! konferenz-sip
