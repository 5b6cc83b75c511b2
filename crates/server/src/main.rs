//! The `konferenz` binary: command line, config, and the server's run loop.
fn main() {}
