//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the
//! directory, but cargo only notices changes to files it already knew about.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
