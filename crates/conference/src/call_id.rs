//! `CallId`: one call (dialled in or placed by us), as the API, the CLI and events name it.
//! The SIP endpoint's call handle carries the same number.

use std::fmt;

use serde::Serialize;

/// A call's id: unique in a server's life and continued across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
