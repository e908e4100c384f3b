/**
 * `cognito-guard/emulator`: a local AWS Cognito user pool (hosted login page, OAuth2 endpoints,
 * JWKS and discovery, and Cognito's JSON API for the AWS SDK) for development and tests, with
 * switches for Cognito's undocumented behaviour and fault injection for resilience tests.
 *
 * @example
 * ```ts
 * import { startEmulator, DEMO_PASSWORD } from 'cognito-guard/emulator';
 *
 * const emulator = await startEmulator({ port: 0 });
 * console.log(`log in as alice / ${DEMO_PASSWORD} at ${emulator.domain}`);
 * emulator.setFault('jwks', { status: 500 });
 * const hostile = await emulator.mintToken({ use: 'access', omit: ['token_use'] });
 * await emulator.stop();
 * ```
 *
 * @packageDocumentation
 */
export {
  DEFAULT_SWITCHES,
  DEMO_CONFIG,
  DEMO_PASSWORD,
  EmulatorConfigError,
  RESERVED_SCOPES,
  demoConfig,
  loadEmulatorConfigFile,
  parseEmulatorConfig,
  stableSub,
} from './config.js';
export type {
  EmulatorClient,
  EmulatorConfig,
  EmulatorGroup,
  EmulatorOAuthFlow,
  EmulatorResourceServer,
  EmulatorSwitches,
  EmulatorUser,
  ExplicitAuthFlow,
  RefreshTokenRotation,
  ResolvedClient,
  ResolvedUser,
  UserStatus,
} from './config.js';
export { COGNITO_API_OPERATIONS } from './api/dispatch.js';
export type { EmulatorMessage, PoolGroup } from './pool.js';
export { CONTROL_METHODS, CognitoEmulator, bindControls } from './emulator.js';
export type {
  CognitoEmulatorOptions,
  EmulatorControls,
  IssueTokensOptions,
  IssuedTokenSet,
  MintTokenOptions,
} from './emulator.js';
export { SESSION_COOKIE } from './endpoints/authorize.js';
export { CSRF_COOKIE } from './endpoints/login.js';
export type { EmulatorFault, FaultEndpoint } from './faults.js';
export type { RequestInfo } from './http.js';
export type { Clock } from './state.js';
export type { EmulatorJwk, KeyInfo, KeyUse } from './key-store.js';
export { REFRESH_TOKEN_PREFIX, atHash } from './token-issuer.js';
export { nodeBridge, redactPath, startEmulator } from './server.js';
export type { EmulatorHandle, RequestLogEntry, StartEmulatorOptions } from './server.js';
