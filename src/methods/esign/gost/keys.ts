/**
 * GOST private keys in PKCS#8 as OpenSSL's GOST engine and CryptoPro's export write them: the
 * algorithm (GOST R 34.10-2012 256/512) with its parameter set, and the private number as raw
 * little-endian bytes (some tools wrap them in an OCTET STRING or write an INTEGER; all are read).
 * For the development tool and tests only: vkhod itself never holds a GOST private key.
 */
import * as asn1js from 'asn1js';
import { GOST_CURVES, type GostCurve } from './curves.ts';
import { bigEndian, littleEndian } from './gost3410.ts';
import { GOST_OID } from './suite.ts';

export interface GostPrivateKey {
  curve: GostCurve;
  curveOid: string;
  d: bigint;
}

/** The GOST key in a PKCS#8 DER, or undefined when the DER is not a GOST R 34.10-2012 key. */
export function parseGostPrivateKey(der: Uint8Array): GostPrivateKey | undefined {
  const asn = asn1js.fromBER(der.slice().buffer);
  if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) return undefined;
  const [, algorithm, privateKey] = asn.result.valueBlock.value as [asn1js.Integer, asn1js.Sequence, asn1js.OctetString];
  const keyOid = (algorithm?.valueBlock?.value?.[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock?.toString();
  if (keyOid !== GOST_OID.key256 && keyOid !== GOST_OID.key512) return undefined;
  const params = algorithm.valueBlock.value[1] as asn1js.Sequence | undefined;
  const curveOid = (params?.valueBlock?.value?.[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock?.toString() ?? '';
  const curve = GOST_CURVES.get(curveOid);
  if (!curve || curve.bits !== (keyOid === GOST_OID.key256 ? 256 : 512) || !(privateKey instanceof asn1js.OctetString)) return undefined;
  let bytes = privateKey.valueBlock.valueHexView;
  let d: bigint;
  const inner = bytes.length !== curve.bits / 8 ? asn1js.fromBER(bytes.slice().buffer) : undefined;
  if (inner && inner.offset !== -1 && inner.result instanceof asn1js.Integer) d = bigEndian(inner.result.valueBlock.valueHexView);
  else {
    if (inner && inner.offset !== -1 && inner.result instanceof asn1js.OctetString) bytes = inner.result.valueBlock.valueHexView;
    d = littleEndian(bytes);
  }
  d %= curve.q;
  return d === 0n ? undefined : { curve, curveOid, d };
}

/** The algorithm identifier of a GOST key: key OID with { parameter set, Streebog of the key's size }. */
export function gostKeyAlgorithm(curve: GostCurve, curveOid: string): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: curve.bits === 256 ? GOST_OID.key256 : GOST_OID.key512 }),
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: curveOid }),
          ...(curve.bits === 256 ? [new asn1js.ObjectIdentifier({ value: GOST_OID.streebog256 })] : []),
        ],
      }),
    ],
  });
}

/** PKCS#8 DER of `key`, as OpenSSL writes it (raw little-endian private number). */
export function encodeGostPrivateKey(key: GostPrivateKey): Uint8Array {
  const n = key.curve.bits / 8;
  const bytes = new Uint8Array(n);
  let d = key.d;
  for (let i = 0; i < n; i += 1) {
    bytes[i] = Number(d & 0xffn);
    d >>= 8n;
  }
  const info = new asn1js.Sequence({
    value: [new asn1js.Integer({ value: 0 }), gostKeyAlgorithm(key.curve, key.curveOid), new asn1js.OctetString({ valueHex: bytes })],
  });
  return new Uint8Array(info.toBER(false));
}
