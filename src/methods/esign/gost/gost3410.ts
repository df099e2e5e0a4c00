/**
 * GOST R 34.10-2012 signatures (RFC 7091) over the curves in curves.ts, with BigInt in Jacobian
 * coordinates. Verification is what vkhod needs; signing exists for the development tool and the
 * tests (`npm run esign -- --as gost256`), with a fresh random k per signature.
 *
 * Encodings as in certificates and CMS (RFC 4491, RFC 9215): the digest is read as a
 * little-endian number; a signature is s ‖ r, each big-endian and of the curve's length; a public
 * key is x ‖ y, each little-endian.
 */
import { randomBytes } from 'node:crypto';
import type { GostCurve } from './curves.ts';

type Jacobian = { x: bigint; y: bigint; z: bigint };
const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** a^(-1) mod m (m prime, a ≠ 0), by the extended Euclidean algorithm. */
export function invert(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    [r0, r1] = [r1, r0 - quotient * r1];
    [s0, s1] = [s1, s0 - quotient * s1];
  }
  if (r0 !== 1n) throw new Error('not invertible');
  return mod(s0, m);
}

function double(c: GostCurve, P: Jacobian): Jacobian {
  const { p } = c;
  if (P.z === 0n || P.y === 0n) return INFINITY;
  const yy = (P.y * P.y) % p;
  const s = (4n * P.x * yy) % p;
  const zz = (P.z * P.z) % p;
  const m = mod(3n * P.x * P.x + c.a * zz * zz, p);
  const x = mod(m * m - 2n * s, p);
  const y = mod(m * (s - x) - 8n * yy * yy, p);
  const z = (2n * P.y * P.z) % p;
  return { x, y, z };
}

function addPoints(c: GostCurve, P: Jacobian, Q: Jacobian): Jacobian {
  const { p } = c;
  if (P.z === 0n) return Q;
  if (Q.z === 0n) return P;
  const z1z1 = (P.z * P.z) % p;
  const z2z2 = (Q.z * Q.z) % p;
  const u1 = (P.x * z2z2) % p;
  const u2 = (Q.x * z1z1) % p;
  const s1 = (P.y * Q.z * z2z2) % p;
  const s2 = (Q.y * P.z * z1z1) % p;
  if (u1 === u2) return s1 === s2 ? double(c, P) : INFINITY;
  const hh = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  const h2 = (hh * hh) % p;
  const h3 = (h2 * hh) % p;
  const x = mod(r * r - h3 - 2n * u1 * h2, p);
  const y = mod(r * (u1 * h2 - x) - s1 * h3, p);
  const z = (hh * P.z * Q.z) % p;
  return { x, y, z };
}

function affineX(c: GostCurve, P: Jacobian): bigint | undefined {
  if (P.z === 0n) return undefined;
  const zi = invert(P.z, c.p);
  return (P.x * zi * zi) % c.p;
}

function affine(c: GostCurve, P: Jacobian): { x: bigint; y: bigint } | undefined {
  if (P.z === 0n) return undefined;
  const zi = invert(P.z, c.p);
  const zi2 = (zi * zi) % c.p;
  return { x: (P.x * zi2) % c.p, y: (P.y * zi2 * zi) % c.p };
}

/** u·P + v·Q (Shamir's trick). */
function twoMultiply(c: GostCurve, u: bigint, P: Jacobian, v: bigint, Q: Jacobian): Jacobian {
  const PQ = addPoints(c, P, Q);
  let R = INFINITY;
  const bits = Math.max(u.toString(2).length, v.toString(2).length);
  for (let i = bits - 1; i >= 0; i -= 1) {
    R = double(c, R);
    const bu = (u >> BigInt(i)) & 1n;
    const bv = (v >> BigInt(i)) & 1n;
    if (bu && bv) R = addPoints(c, R, PQ);
    else if (bu) R = addPoints(c, R, P);
    else if (bv) R = addPoints(c, R, Q);
  }
  return R;
}

function multiply(c: GostCurve, k: bigint, P: Jacobian): Jacobian {
  return twoMultiply(c, k, P, 0n, INFINITY);
}

const base = (c: GostCurve): Jacobian => ({ x: c.x, y: c.y, z: 1n });
const size = (c: GostCurve) => c.bits / 8;

export function onCurve(c: GostCurve, x: bigint, y: bigint): boolean {
  if (x < 0n || y < 0n || x >= c.p || y >= c.p) return false;
  return mod(y * y - (x * x * x + c.a * x + c.b), c.p) === 0n;
}

export function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i -= 1) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

export function bigEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n;
}

function toBigEndian(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i -= 1) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function digestNumber(c: GostCurve, digest: Uint8Array): bigint {
  const e = littleEndian(digest) % c.q;
  return e === 0n ? 1n : e;
}

/** The public key as x ‖ y (little-endian), as inside a certificate's key OCTET STRING. */
export interface GostPublicKey {
  curve: GostCurve;
  x: bigint;
  y: bigint;
}

export function decodePublicKey(curve: GostCurve, bytes: Uint8Array): GostPublicKey | undefined {
  const n = size(curve);
  if (bytes.length !== 2 * n) return undefined;
  const x = littleEndian(bytes.subarray(0, n));
  const y = littleEndian(bytes.subarray(n));
  return onCurve(curve, x, y) ? { curve, x, y } : undefined;
}

export function encodePublicKey(key: GostPublicKey): Uint8Array {
  const n = size(key.curve);
  return Uint8Array.from([...toBigEndian(key.x, n).reverse(), ...toBigEndian(key.y, n).reverse()]);
}

/** Checks a signature s ‖ r (big-endian) of `digest` (Streebog output as is). */
export function verifyDigest(key: GostPublicKey, digest: Uint8Array, signature: Uint8Array): boolean {
  const c = key.curve;
  const n = size(c);
  if (signature.length !== 2 * n || digest.length !== n) return false;
  const s = bigEndian(signature.subarray(0, n));
  const r = bigEndian(signature.subarray(n));
  if (r <= 0n || r >= c.q || s <= 0n || s >= c.q) return false;
  const v = invert(digestNumber(c, digest), c.q);
  const z1 = (s * v) % c.q;
  const z2 = mod(-r * v, c.q);
  const x = affineX(c, twoMultiply(c, z1, base(c), z2, { x: key.x, y: key.y, z: 1n }));
  return x !== undefined && x % c.q === r;
}

/** The public key of private key `d`. */
export function publicKeyOf(curve: GostCurve, d: bigint): GostPublicKey {
  const point = affine(curve, multiply(curve, d, base(curve)))!;
  return { curve, ...point };
}

function randomScalar(c: GostCurve): bigint {
  for (;;) {
    const k = bigEndian(randomBytes(size(c) + 8)) % c.q;
    if (k !== 0n) return k;
  }
}

export function generatePrivateKey(curve: GostCurve): bigint {
  return randomScalar(curve);
}

/** A signature s ‖ r (big-endian) of `digest` by private key `d`. */
export function signDigest(curve: GostCurve, d: bigint, digest: Uint8Array): Uint8Array {
  const e = digestNumber(curve, digest);
  for (;;) {
    const k = randomScalar(curve);
    const x = affineX(curve, multiply(curve, k, base(curve)));
    if (x === undefined) continue;
    const r = x % curve.q;
    if (r === 0n) continue;
    const s = (r * d + k * e) % curve.q;
    if (s === 0n) continue;
    const n = size(curve);
    return Uint8Array.from([...toBigEndian(s, n), ...toBigEndian(r, n)]);
  }
}
