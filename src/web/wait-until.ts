/**
 * Waits for what a parallel request is doing (the request that won a single-use record, seen by
 * the one that lost it to a double click): polls `done` until it says yes or `ms` have passed.
 */
export async function waitUntil(done: () => Promise<boolean>, ms = 3000, stepMs = 25): Promise<boolean> {
  for (let waited = 0; ; waited += stepMs) {
    if (await done()) return true;
    if (waited >= ms) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
