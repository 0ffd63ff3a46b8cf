// A small seeded pseudo-random generator (mulberry32), for tests and benchmarks that must draw the same
// "random" orders, texts and timings on every run. Returns numbers in [0, 1).
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
