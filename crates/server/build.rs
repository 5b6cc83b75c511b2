//! Embeds the default prompt recordings (`assets/prompts/**.wav`) into the binary, so a
//! fresh install speaks without any files beside it. Writes `$OUT_DIR/prompts.rs` with a
//! `(relative path, bytes)` table.

use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/prompts");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut table = String::from(
        "/// Built-in recordings: path below assets/prompts, WAV bytes.\npub static EMBEDDED: &[(&str, &[u8])] = &[\n",
    );
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .expect("below root")
            .to_string_lossy()
            .replace('\\', "/");
        println!("cargo:rerun-if-changed={}", file.display());
        table.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?})),\n",
            file.canonicalize().expect("file exists")
        ));
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("prompts.rs");
    std::fs::write(out, table).expect("write prompts.rs");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "wav") {
            files.push(path);
        }
    }
}
