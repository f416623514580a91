/** The errors of the Parquet writer, apart from its SQL and its execution so both can throw them. */
import { OktaLakeError } from '../errors';

/** The page text is not a JSON array (or JSON lines) at all: truncated, malformed, or empty. */
export class MalformedPageError extends OktaLakeError {}

/** The `PageWriteInput` is not usable (bad org, name, `until` or `ingestedAt`). */
export class InvalidPageInputError extends OktaLakeError {}

/** DuckDB failed while staging or writing a page for a reason other than the page's JSON. */
export class ParquetWriteError extends OktaLakeError {}
