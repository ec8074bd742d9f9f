//! Reading the uploaded file: BOM, delimiter, records as byte strings
//! checked for UTF-8 one row at a time.

use csv_async::{AsyncReader, AsyncReaderBuilder, ByteRecord, StringRecord};
use tokio::io::AsyncRead;

use super::mapping::check_headers;

/// The UTF-8 byte order mark some editors write first.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The largest file an import reads unless configured otherwise (50 MiB).
pub const MAX_BYTES: u64 = 50 * 1024 * 1024;

/// What the start of a file says about the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub bom: bool,
    pub delimiter: u8,
}

impl Sniffed {
    /// The BOM and the delimiter (`,`, `;` or tab: whichever the header line,
    /// outside quotes, has most of; `,` when none).
    pub fn from_head(head: &[u8]) -> Self {
        let bom = head.starts_with(BOM);
        let body = if bom { &head[BOM.len()..] } else { head };
        let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
        let mut quoted = false;
        for &b in body {
            match b {
                b'"' => quoted = !quoted,
                b'\n' | b'\r' if !quoted => break,
                _ if !quoted => {
                    for (delimiter, count) in &mut counts {
                        if b == *delimiter {
                            *count += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        let delimiter = counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .max_by_key(|(_, n)| *n)
            .map_or(b',', |(d, _)| *d);
        Self { bom, delimiter }
    }

    /// Where the header starts: after the BOM, if any.
    pub fn start(&self) -> u64 {
        if self.bom { BOM.len() as u64 } else { 0 }
    }

    /// The delimiter as text, for people.
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b';' => ";",
            b'\t' => "tab",
            _ => ",",
        }
    }
}

/// The header row at the start of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub sniffed: Sniffed,
    /// Column names, trimmed and unescaped as cells are; none empty, none
    /// repeated.
    pub names: Vec<String>,
    /// Byte offset and line of the first row after the header.
    pub end: u64,
    pub line: u64,
}

/// Reads and checks the header row from the first bytes of a file; `Err`
/// says why the file can't be imported, for the user.
pub async fn header(head: &[u8]) -> Result<Header, String> {
    let sniffed = Sniffed::from_head(head);
    let start = usize::try_from(sniffed.start())
        .unwrap_or(0)
        .min(head.len());
    let mut reader = records(&head[start..], sniffed.delimiter);
    let mut record = ByteRecord::new();
    let found = reader
        .read_byte_record(&mut record)
        .await
        .map_err(|e| e.to_string())?;
    if !found || is_blank(&record) {
        return Err("the file is empty; it needs a header row naming its columns".into());
    }
    let names: Vec<String> = cells(&record)
        .map_err(|column| {
            format!(
                "the header row is not valid UTF-8 (column {column}); save the file as UTF-8 and upload it again"
            )
        })?
        .iter()
        .map(|h| crate::export::cells::unescape(h.trim()).into_owned())
        .collect();
    check_headers(&names)?;
    Ok(Header {
        sniffed,
        names,
        end: sniffed.start() + reader.position().byte(),
        line: reader.position().line(),
    })
}

/// A reader of records (no header handling; rows may have any length).
pub fn records<R: AsyncRead + Unpin + Send>(input: R, delimiter: u8) -> AsyncReader<R> {
    AsyncReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .create_reader(input)
}

/// A record's cells as text (one buffer for them all), or the 1-based
/// column that is not UTF-8.
pub fn cells(record: &ByteRecord) -> Result<StringRecord, usize> {
    StringRecord::from_byte_record(record.clone()).map_err(|e| e.utf8_error().field() + 1)
}

/// Whether every cell is empty or blank (a line of delimiters is no row).
pub fn is_blank(record: &ByteRecord) -> bool {
    record.iter().all(|cell| cell.trim_ascii().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_is_the_most_frequent_outside_quotes() {
        assert_eq!(Sniffed::from_head(b"a,b;c,d\n1;2;3").delimiter, b',');
        assert_eq!(Sniffed::from_head(b"\"a,b,c\";d;e\n").delimiter, b';');
        assert_eq!(Sniffed::from_head(b"a\tb\tc").delimiter, b'\t');
        assert_eq!(Sniffed::from_head(b"email").delimiter, b',');
        let sniffed = Sniffed::from_head(b"\xEF\xBB\xBFa;b");
        assert!(sniffed.bom);
        assert_eq!((sniffed.delimiter, sniffed.start()), (b';', 3));
    }

    #[tokio::test]
    async fn positions_point_at_the_next_record() {
        let data: &[u8] = b"h1,h2\r\n\"multi\nline\",x\n\n1,2\n";
        let mut reader = records(data, b',');
        let mut record = ByteRecord::new();
        let mut seen = Vec::new();
        while reader.read_byte_record(&mut record).await.unwrap() {
            seen.push((
                cells(&record).unwrap(),
                reader.position().byte(),
                reader.position().line(),
            ));
        }
        assert_eq!(seen[1].0, vec!["multi\nline", "x"]);
        assert_eq!(&data[usize::try_from(seen[1].1).unwrap()..], b"\n1,2\n");
        assert_eq!(seen[2].0, vec!["1", "2"]);
        assert_eq!(seen.len(), 3);
    }
}
