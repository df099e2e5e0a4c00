/**
 * What the server (not the CLI) checks before it serves (issue 14): a production process with no
 * relying party to serve refuses to start — the CLI must still run then, to add the first one —
 * and settings that point at missing files are warned about in the log.
 */
import { existsSync } from 'node:fs';
import { DEV_ESIGN_DIR } from './federation.ts';
import type { Config } from './load.ts';

export interface StartupChecks {
  /** One line naming the setting; the process exits 1. */
  refusal?: string;
  /** Logged as warnings (JSON log) and the process starts. */
  warnings: Array<{ setting: string; message: string }>;
}

export function startupChecks(config: Config): StartupChecks {
  const warnings: StartupChecks['warnings'] = [];
  const cas = config.esign.trustedCas;
  if (cas && (config.production || cas !== DEV_ESIGN_DIR) && !existsSync(cas))
    warnings.push({
      setting: 'VKHOD_ESIGN_TRUSTED_CAS_FILE',
      message: `trusted CA file ${cas} does not exist: e-signature sign-in refuses every certificate until it does`,
    });
  return { warnings };
}

/**
 * Production refuses to start without any relying party. Clients live in the store (seeded from the
 * clients file, or added by the admin API / CLI), so this is checked once the store is open (src/main.ts):
 * `activeInStore` is how many active clients the store holds.
 */
export function noClientRefusal(config: Config, activeInStore: number): string | undefined {
  if (!config.production || config.clients.length > 0 || activeInStore > 0) return undefined;
  return `VKHOD_CLIENTS_FILE: no relying party in ${config.clientsFile} (nor VKHOD_CLIENTS) nor in the store; production refuses to start without a client (npm run cli -- clients add …)`;
}
