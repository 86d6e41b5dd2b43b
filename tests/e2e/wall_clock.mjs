// The system's wall clock with sub-millisecond resolution, for client-side timings that the e2e tests
// compare with llmtap's span times (CLOCK_REALTIME).
//
// performance.timeOrigin + performance.now() is not that clock: it is the monotonic clock anchored to
// the wall clock once, at process start, so it drifts from it whenever the system clock is stepped or
// slewed afterwards (a VM syncing its clock; a CI run's tool margins fit it reading 10-20 ms behind). Date.now() is
// the wall clock itself but whole milliseconds. So each reading takes the monotonic time, then pins it
// to the wall clock at the next Date.now() tick, seen within TICK_WINDOW_MS of the previous look (a
// look interrupted by a preemption is retried at the next tick). Costs up to ~1 ms a reading.
const TICK_WINDOW_MS = 0.05;
const MAX_TICKS = 20;

export function wallMs() {
  const at = performance.now();
  let seen = Date.now();
  let lookedAt = performance.now();
  for (let ticks = 0; ticks < MAX_TICKS;) {
    const q = performance.now();
    const d = Date.now();
    if (d !== seen) {
      // The tick to D happened between the last look and Q: place it mid-way.
      if (q - lookedAt <= TICK_WINDOW_MS) return d + (q - lookedAt) / 2 - (q - at);
      ++ticks;
      seen = d;
    }
    lookedAt = q;
  }
  return performance.timeOrigin + at;  // never pinned (a machine too busy): the anchored clock
}

export const wallNs = () => Math.round(wallMs() * 1e6);
