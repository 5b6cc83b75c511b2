//! konferenz-conference: the product's model types and conference rules, without I/O.

mod room_number;

pub use room_number::{RoomNumber, RoomNumberError};
