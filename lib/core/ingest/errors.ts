/** The ingestion run's named errors. */
import { OktaLakeError } from '../errors';

/** A page could not be written or checkpointed; the run stopped there and will resume at that page. */
export class IngestError extends OktaLakeError {}

/** Okta times out (E0000009) on a window that is already as narrow as `minWindowMs` allows. */
export class WindowSplitError extends IngestError {}

/** Okta refused a window's next link (HTTP 400) again after `maxCursorRestarts` restarts in this run. */
export class CursorRestartError extends IngestError {}
