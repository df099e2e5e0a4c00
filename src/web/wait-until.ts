/**
 * Waits for what a parallel request is doing (the request that won a single-use record, seen by
 * the one that lost it to a double click): asks `done` until it says yes or `ms` have passed
 * (the time the checks take counted).
 */
export async function waitUntil(done: () => Promise<boolean>, ms = 3000, stepMs = 25): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
