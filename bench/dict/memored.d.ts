/** Minimal types for memored (it ships none). */
declare module 'memored' {
  const memored: {
    read(key: string, cb: (err: unknown, value: unknown) => void): void;
    store(key: string, value: unknown, cb: (err: unknown) => void): void;
  };
  export default memored;
}
