//! What an uploaded file is, from its first bytes, and the UTF-8 CSV the
//! row reader reads when the file is something else: text Excel saved as
//! Windows-1252 ("CSV") or UTF-16 ("Unicode text"), or an .xlsx workbook
//! (its first sheet).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// The kinds of file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// UTF-8 text (ASCII is UTF-8 too), with or without a BOM.
    Utf8,
    /// Text that is not UTF-8: read as Windows-1252, which every byte is.
    Windows1252,
    /// Text starting with a UTF-16 byte order mark.
    Utf16Le,
    Utf16Be,
    /// A ZIP container: an .xlsx workbook.
    Xlsx,
}

impl FileKind {
    /// The kind of a file from its first bytes (`complete` when they are
    /// the whole file): a UTF-16 BOM, a ZIP signature, a UTF-8 BOM, else
    /// UTF-8 unless the bytes are not UTF-8 (ignoring a character cut off
    /// at their end).
    pub fn sniff(head: &[u8], complete: bool) -> Self {
        if head.starts_with(b"\xFF\xFE") {
            return Self::Utf16Le;
        }
        if head.starts_with(b"\xFE\xFF") {
            return Self::Utf16Be;
        }
        if head.starts_with(b"PK\x03\x04") {
            return Self::Xlsx;
        }
        // A UTF-8 BOM says what the text is: a bad byte after it is an error.
        if head.starts_with(super::csvfile::BOM) {
            return Self::Utf8;
        }
        match std::str::from_utf8(head) {
            Ok(_) => Self::Utf8,
            Err(error) if error.error_len().is_none() && !complete => Self::Utf8,
            Err(_) => Self::Windows1252,
        }
    }

    /// Its name, as the preview and the import's status show it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Windows1252 => "windows-1252",
            Self::Utf16Le => "utf-16le",
            Self::Utf16Be => "utf-16be",
            Self::Xlsx => "xlsx",
        }
    }

    /// Whether the row reader needs the file as a UTF-8 CSV copy.
    pub fn needs_conversion(self) -> bool {
        self != Self::Utf8
    }

    /// The file as UTF-8 CSV: text decoded (a UTF-16 file that does not
    /// decode is refused), a workbook's first sheet written out. `Err`
    /// says why the file can't be read, for the user.
    pub fn to_utf8_csv(self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let text = |encoding: &'static encoding_rs::Encoding| {
            let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(format!(
                    "the file starts like {} text but is not: save it as CSV UTF-8 and upload it again",
                    self.name()
                ));
            }
            Ok(text.into_owned().into_bytes())
        };
        match self {
            Self::Utf8 => Ok(bytes.to_vec()),
            Self::Windows1252 => text(encoding_rs::WINDOWS_1252),
            Self::Utf16Le => text(encoding_rs::UTF_16LE).map(without_bom),
            Self::Utf16Be => text(encoding_rs::UTF_16BE).map(without_bom),
            Self::Xlsx => first_sheet(bytes),
        }
    }
}

impl FileKind {
    /// The first bytes of a file of this kind as UTF-8 CSV, for a preview:
    /// text decoded as far as it goes (a character cut off at the end is
    /// dropped), a workbook only when the bytes are all of it.
    pub fn preview_csv(self, bytes: &[u8], complete: bool) -> Result<Vec<u8>, String> {
        match self {
            Self::Xlsx if !complete => Err(format!(
                "an .xlsx workbook is read whole, and this one is over {} KiB: upload it, then preview the import",
                super::preview::MAX_BYTES / 1024
            )),
            Self::Utf16Le | Self::Utf16Be if !complete => {
                let even = &bytes[..bytes.len() & !1];
                let encoding = if self == Self::Utf16Le {
                    encoding_rs::UTF_16LE
                } else {
                    encoding_rs::UTF_16BE
                };
                let (text, _) = encoding.decode_without_bom_handling(even);
                Ok(without_bom(text.into_owned().into_bytes()))
            }
            _ => self.to_utf8_csv(bytes),
        }
    }
}

/// UTF-8 text without the BOM the UTF-16 one became.
fn without_bom(mut text: Vec<u8>) -> Vec<u8> {
    if text.starts_with(super::csvfile::BOM) {
        text.drain(..super::csvfile::BOM.len());
    }
    text
}

/// The first sheet of a workbook as CSV, every cell quoted: text as it is,
/// whole numbers without a decimal point, dates as ISO 8601, `TRUE`/`FALSE`.
fn first_sheet(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let unreadable = |error: String| {
        format!(
            "the file is not an .xlsx workbook that can be read ({error}); save it as .xlsx or CSV UTF-8"
        )
    };
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(e.to_string()))?;
    let sheet = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| "the workbook has no sheet".to_owned())?
        .map_err(|e| unreadable(e.to_string()))?;
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect();
    // Columns that only formatting reached hold nothing: they are left out.
    let width = rows
        .iter()
        .filter_map(|cells| cells.iter().rposition(|c| !c.is_empty()))
        .max()
        .map_or(0, |last| last + 1);
    let mut csv = Vec::new();
    for cells in &rows {
        // A row of empty cells stays a blank line, which is no row: each
        // line of the CSV is the sheet's row of that number.
        if cells.iter().any(|c| !c.is_empty()) {
            let line: Vec<String> = cells[..width.min(cells.len())]
                .iter()
                .map(|cell| format!("\"{}\"", cell.replace('"', "\"\"")))
                .collect();
            csv.extend_from_slice(line.join(",").as_bytes());
        }
        csv.push(b'\n');
    }
    Ok(csv)
}

/// A cell's value as text.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(n) => n.to_string(),
        // `Display` writes a whole float without a decimal point.
        Data::Float(n) => n.to_string(),
        Data::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_owned(),
        Data::DateTime(at) => match at.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => at.to_string(),
        },
        Data::Error(error) => format!("#{error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_their_first_bytes() {
        assert_eq!(FileKind::sniff(b"Email\na@b.co\n", true), FileKind::Utf8);
        assert_eq!(
            FileKind::sniff("Name\nMüller\n".as_bytes(), true),
            FileKind::Utf8
        );
        assert_eq!(
            FileKind::sniff(b"Name\nM\xfcller\n", true),
            FileKind::Windows1252
        );
        // A character cut off where the head ends is still UTF-8.
        assert_eq!(FileKind::sniff(b"Name\nM\xc3", false), FileKind::Utf8);
        assert_eq!(FileKind::sniff(b"Name\nM\xc3", true), FileKind::Windows1252);
        assert_eq!(FileKind::sniff(b"\xFF\xFEN\0", true), FileKind::Utf16Le);
        assert_eq!(FileKind::sniff(b"\xFE\xFF\0N", true), FileKind::Utf16Be);
        assert_eq!(FileKind::sniff(b"PK\x03\x04rest", false), FileKind::Xlsx);
        assert_eq!(
            FileKind::sniff(b"\xEF\xBB\xBFName\nM\xfcller\n", true),
            FileKind::Utf8
        );
    }

    #[test]
    fn text_becomes_utf8_without_a_bom() {
        let latin = FileKind::Windows1252
            .to_utf8_csv(b"Name\nM\xfcller;\xd1\xfa\xf1ez\n")
            .unwrap();
        assert_eq!(String::from_utf8(latin).unwrap(), "Name\nMüller;Ñúñez\n");
        let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
        for unit in "Name\tEmail\nMüller\tm@b.co\n".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        let text = FileKind::Utf16Le.to_utf8_csv(&utf16).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "Name\tEmail\nMüller\tm@b.co\n"
        );
        let broken = FileKind::Utf16Le.to_utf8_csv(b"\xFF\xFEN\0\x00\xD8");
        assert!(broken.is_err_and(|e| e.contains("utf-16le")));
    }

    #[test]
    fn a_zip_that_is_no_workbook_is_refused_saying_so() {
        let refused = FileKind::Xlsx
            .to_utf8_csv(b"PK\x03\x04not really")
            .unwrap_err();
        assert!(refused.contains(".xlsx"), "{refused}");
    }

    #[test]
    fn cells_read_as_people_see_them() {
        assert_eq!(cell_text(&Data::Float(123.0)), "123");
        assert_eq!(cell_text(&Data::Float(4915123456789.0)), "4915123456789");
        assert_eq!(cell_text(&Data::Float(1.5)), "1.5");
        assert_eq!(cell_text(&Data::Bool(true)), "TRUE");
        assert_eq!(cell_text(&Data::String("00123".into())), "00123");
    }
}
