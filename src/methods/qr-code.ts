/**
 * QR codes, rendered on the server (no script on the page). The `qrcode` library (with its PNG
 * encoder) is loaded on the first code drawn — an authenticator app's enrolment or a
 * cross-device sign-in — not at start (issue 15).
 */
type QrCodeLibrary = typeof import('qrcode');

let library: Promise<QrCodeLibrary> | undefined;
// A CommonJS package: its exports object is the default of the namespace.
const qrcode = () => (library ??= import('qrcode').then((m) => (m as { default?: QrCodeLibrary }).default ?? m));

/** An inline SVG of `text`. */
export async function qrSvg(text: string): Promise<string> {
  return (await qrcode()).toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
}

/** A PNG data URL of `text`, `width` pixels wide. */
export async function qrDataUrl(text: string, width: number): Promise<string> {
  return (await qrcode()).toDataURL(text, { errorCorrectionLevel: 'M', margin: 1, width });
}
