/** GOST R 34.11-2012 (Streebog) and GOST R 34.10-2012 for vkhod's e-signatures. */
export { curveOid, GOST_CURVES, type GostCurve } from './curves.ts';
export {
  decodePublicKey,
  encodePublicKey,
  generatePrivateKey,
  publicKeyOf,
  signDigest as gostSign,
  verifyDigest as gostVerify,
  type GostPublicKey,
} from './gost3410.ts';
export { streebog, streebog256, streebog512 } from './streebog.ts';
export { GOST_OID, gostPublicKey, gostSuite } from './suite.ts';
