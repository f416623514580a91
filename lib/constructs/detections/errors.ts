import { ConfigError } from '../../core/errors';

/** A query file cannot be deployed as it is (too large for Athena or for its schedule's payload). */
export class DetectionDeploymentError extends ConfigError {}
