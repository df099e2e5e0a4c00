/**
 * The device of a session in words, from its User-Agent: browser and operating system families
 * (no version details beyond the major one). A small parser for the cabinet's lists — it names
 * what citizens use; anything else is "unknown".
 */
export interface DeviceName {
  browser?: string;
  os?: string;
}

const BROWSERS: Array<[RegExp, string]> = [
  [/YaBrowser\/(\d+)/, 'Яндекс Браузер'],
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)|Opera\/(\d+)/, 'Opera'],
  [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/Firefox\/(\d+)|FxiOS\/(\d+)/, 'Firefox'],
  [/HeadlessChrome\/(\d+)/, 'Chrome'],
  [/Chrom(?:e|ium)\/(\d+)|CriOS\/(\d+)/, 'Chrome'],
  [/Version\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/Windows NT/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

export function parseUserAgent(ua: string | undefined): DeviceName {
  const value = String(ua ?? '').slice(0, 512);
  const out: DeviceName = {};
  for (const [re, name] of BROWSERS) {
    const m = value.match(re);
    if (m) {
      const major = m.slice(1).find(Boolean);
      out.browser = major ? `${name} ${major}` : name;
      break;
    }
  }
  for (const [re, name] of SYSTEMS) {
    if (re.test(value)) {
      out.os = name;
      break;
    }
  }
  return out;
}

/** "Chrome 120, Windows"; `unknown` when nothing is recognised. */
export function deviceLabel(ua: string | undefined, unknown: string): string {
  const d = parseUserAgent(ua);
  return [d.browser, d.os].filter(Boolean).join(', ') || unknown;
}

/** The device family a citizen would recognise (browser without version, OS): for "seen before". */
export function deviceFamily(ua: string | undefined): string {
  const d = parseUserAgent(ua);
  return `${d.browser?.replace(/ \d+$/, '') ?? '?'}|${d.os ?? '?'}`;
}
