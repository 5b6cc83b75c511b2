//! `konferenz serve`: binds the sockets and runs the SIP endpoint and the room tasks.
