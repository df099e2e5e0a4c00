/** The small part of @koa/multer's API vkhod uses (the package ships no types). */
declare module '@koa/multer' {
  import type { Middleware } from 'koa';

  interface Limits {
    fieldNameSize?: number;
    fieldSize?: number;
    fields?: number;
    fileSize?: number;
    files?: number;
    parts?: number;
    headerPairs?: number;
  }
  interface StorageEngine {
    _handleFile(...args: unknown[]): void;
    _removeFile(...args: unknown[]): void;
  }
  interface Instance {
    single(field: string): Middleware;
    none(): Middleware;
  }
  interface Multer {
    (options?: { storage?: StorageEngine; limits?: Limits }): Instance;
    memoryStorage(): StorageEngine;
  }
  const multer: Multer;
  export default multer;
}
