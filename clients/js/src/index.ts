/**
 * `@ballast/client`: a TypeScript client for the Ballast lending program.
 *
 * - `./generated`: Codama's client from the IDL (instructions, accounts,
 *   types, errors, PDAs) plus the events' codecs.
 * - Hand-written: constants the IDL lacks, I80F48 conversion, PDAs,
 *   Pyth `PriceUpdateV2` accounts, the market loader, the health accounts,
 *   action builders, the reserve-config builder, typed errors and events.
 */
export * from './generated';
export * from './actions';
export * from './config';
export * from './constants';
export * from './errors';
export * from './events';
export * from './fixed';
export * from './health';
export * from './market';
export * from './oracle';
export * from './pda';
export * from './engine';
