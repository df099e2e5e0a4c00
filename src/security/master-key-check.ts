/**
 * Does `VKHOD_SECRET_KEY` open the data in this store? A sealed marker is written under the master
 * key on the first start; every later start opens it. A different key would otherwise start a
 * process that cannot read its own signing keys, authenticator seeds or letter codes (issue 14).
 */
import type { SettingRepository } from '../store.ts';
import type { SecretBox } from './secret-box.ts';

const SETTING = 'secret-key.check';
const MARKER = 'vkhod master key check v1';

/** `true`: the key opens the store's data (or the store is new and now carries the marker). */
export async function masterKeyOpensStore(settings: SettingRepository, box: SecretBox): Promise<boolean> {
  const stored = await settings.get(SETTING);
  if (!stored) {
    // A race with another process starting at the same time: the loser reads the winner's marker.
    if (await settings.put(SETTING, box.encrypt(MARKER, SETTING), 0)) return true;
    return masterKeyOpensStore(settings, box);
  }
  try {
    return box.decrypt(stored.value, SETTING) === MARKER;
  } catch {
    return false;
  }
}
