/**
 * Does `VKHOD_SECRET_KEY` open the data in this store? A marker sealed under the master key is
 * written once the first start has shown that the key opens what the store holds (its signing
 * keys were read or made); every later start opens the marker first. A different key would
 * otherwise start a process that cannot read its own signing keys, authenticator seeds or letter
 * codes (issue 14).
 */
import type { SettingRepository } from '../store.ts';
import type { SecretBox } from './secret-box.ts';

const SETTING = 'secret-key.check';
const MARKER = 'vkhod master key check v1';

/** `absent`: no marker yet (a new store, or one written before the marker existed). */
export async function masterKeyCheck(settings: SettingRepository, box: SecretBox): Promise<'opens' | 'other-key' | 'absent'> {
  const stored = await settings.get(SETTING);
  if (!stored) return 'absent';
  try {
    return box.decrypt(stored.value, SETTING) === MARKER ? 'opens' : 'other-key';
  } catch {
    return 'other-key';
  }
}

/**
 * Writes the marker when there is none. Call only after the key was seen to open the store's data
 * (a marker sealed under a wrong key would lock out the right one). A concurrent start that wrote
 * first wins; its marker is under the same key.
 */
export async function sealMasterKeyCheck(settings: SettingRepository, box: SecretBox): Promise<void> {
  if (!(await settings.get(SETTING))) await settings.put(SETTING, box.encrypt(MARKER, SETTING), 0);
}
