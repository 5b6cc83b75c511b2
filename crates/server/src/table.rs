//! Aligned text tables for the command line: a header row, columns padded to their widest
//! cell, the last column left unpadded.

use std::fmt::Write as _;

/// Renders `rows` under `header`, columns separated by two spaces.
pub fn render<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let header = header.map(str::to_owned);
    let mut widths = [0usize; N];
    for row in std::iter::once(&header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[i]);
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_padded_to_the_widest_cell_but_the_last() {
        let rows = [["800".to_owned(), "Weekly".to_owned(), "x".to_owned()]];
        assert_eq!(
            super::render(["NUMBER", "NAME", "END"], &rows),
            "NUMBER  NAME    END\n800     Weekly  x\n"
        );
    }
}
