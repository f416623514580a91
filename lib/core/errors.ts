/**
 * Named errors. Every error the project raises on purpose is one of these, so callers (the CLI, the
 * Lambda handler, tests) can tell what happened without parsing messages, and the original error is
 * kept as `cause`.
 */
export class OktaLakeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value is missing or not allowed. The message names the field and what is allowed. */
export class ConfigError extends OktaLakeError {}

/** The run no longer holds the org's lease (another run took it over, or it expired): stop writing. */
export class LeaseLostError extends OktaLakeError {}

/** The watermark store could not be read or written. */
export class StateStoreError extends OktaLakeError {}

/** A lake sink (S3 or a folder) failed to store or read an object. */
export class SinkError extends OktaLakeError {}

/**
 * A write was refused because the key already holds an object: the lake is write-once (S3
 * `If-None-Match: *`, a folder by exclusive link), so nothing the pipeline stores can be replaced.
 */
export class ObjectExistsError extends SinkError {
  constructor(
    message: string,
    /** The key (relative to the sink root) that is already taken. */
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
