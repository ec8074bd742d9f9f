//! Download as Excel: the finished CSV of an export made into a workbook
//! whose cells are all text (so a spreadsheet keeps `00123` and
//! `+12025550143` as they are), same columns and order.

use csv_async::AsyncReaderBuilder;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use tokio::io::AsyncRead;

use super::cells::unescape;
use crate::error::{Error, Result};

/// The most data rows a sheet holds (Excel's 1,048,576 rows, one the header).
pub const MAX_ROWS: u64 = 1_048_575;

/// The workbook of `csv`, an export's file (every cell quoted and
/// formula-guarded, which text cells don't need: the guard is taken off),
/// read as a stream; the sheet's rows wait in a temporary file, not in
/// memory. CPU work: run it on a blocking thread.
pub async fn from_csv<R: AsyncRead + Unpin + Send>(csv: R) -> Result<Vec<u8>> {
    let mut reader = AsyncReaderBuilder::new()
        .has_headers(false)
        .create_reader(csv);
    let mut workbook = Workbook::new();
    let text = Format::new().set_num_format("@");
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(workbook_error)?
        .set_name("Contacts")
        .map_err(workbook_error)?;
    let mut record = csv_async::StringRecord::new();
    let mut row: u32 = 0;
    while reader
        .read_record(&mut record)
        .await
        .map_err(|e| Error::Unexpected(anyhow::Error::new(e).context("reading the export")))?
    {
        for (column, cell) in record.iter().enumerate() {
            let column = u16::try_from(column).map_err(|_| {
                Error::Unexpected(anyhow::anyhow!("an export has more columns than a sheet"))
            })?;
            sheet
                .write_string_with_format(row, column, unescape(cell), &text)
                .map_err(workbook_error)?;
        }
        row += 1;
    }
    workbook.save_to_buffer().map_err(workbook_error)
}

fn workbook_error(error: XlsxError) -> Error {
    Error::Unexpected(anyhow::Error::new(error).context("writing the workbook"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::source::FileKind;

    #[tokio::test]
    async fn a_workbook_holds_the_csv_s_text_exactly() {
        let csv = "\"External ID\",\"Phone Number\",\"Note\"\r\n\
            \"00123\",\"'+12025550143\",\"'=SUM(A1)\"\r\n\
            \"x\",\"\",\"TRUE\"\r\n";
        let workbook = from_csv(csv.as_bytes()).await.unwrap();
        let back = FileKind::Xlsx.to_utf8_csv(&workbook).unwrap();
        assert_eq!(
            String::from_utf8(back).unwrap(),
            "\"External ID\",\"Phone Number\",\"Note\"\n\
             \"00123\",\"+12025550143\",\"=SUM(A1)\"\n\
             \"x\",\"\",\"TRUE\"\n"
        );
    }
}
