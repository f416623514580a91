import type { OktaGeographicalContext, OktaIpAddress, OktaSecurityContext } from './event';

/** One place requests come from: an address with its geography, ASN data and network zone. */
export interface NetPoint {
  readonly key: string;
  readonly ip: string;
  readonly version: 'V4' | 'V6';
  readonly geo: OktaGeographicalContext;
  readonly security: OktaSecurityContext;
  /** The matched network zone name, or the string "null". */
  readonly zone: string;
  readonly ipChain: readonly OktaIpAddress[];
}
