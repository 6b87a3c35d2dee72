/** Keys and self-checking values of 92.seqlock-stripes.test.ts and its worker. */
export const stableKey = (i: number): string => `stable:${i}`;
export const churnKey = (i: number): string => `churn:${i}`;

/** 8..207 bytes: the id in the first 4, then a byte pattern derived from it. */
export function valueFor(id: number): Uint8Array {
  const len = 8 + ((id * 13) % 200);
  const v = new Uint8Array(len);
  new DataView(v.buffer).setUint32(0, id);
  for (let k = 4; k < len; k++) v[k] = (id * 31 + k) & 0xff;
  return v;
}

export function intact(v: unknown, id: number): boolean {
  if (!(v instanceof Uint8Array)) return false;
  const want = valueFor(id);
  if (v.length !== want.length) return false;
  for (let k = 0; k < want.length; k++) if (v[k] !== want[k]) return false;
  return true;
}
