// Reading `perf script -F pid,tid,time,ip,sym` output (call graphs from `perf record -a -g -k
// monotonic`) into where each server's CPU samples went during the measured rounds: in the kernel
// or in user space, and under which JavaScript function (V8 names JIT code in /tmp/perf-<pid>.map
// when the server runs with --perf-basic-prof).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Frames of the kernel's system-call and interrupt entry points: a sample below one is kernel time. */
const KERNEL_ENTRY = /^(entry_SYSCALL|do_syscall_64|asm_|irq_exit|__irq_exit|handle_softirqs|__do_softirq|ret_from_fork)/;
/** V8's collector, on the main thread or its helper threads. */
const GARBAGE_COLLECTION = /^v8::internal::(Heap::|Scavenger|ScavengerCollector|MarkCompactCollector|ConcurrentMarking|MinorMarkCompact|Sweeper|IncrementalMarking)/;

/** One process's samples: how many, how many in the kernel, and how many under each function. */
/** @typedef {{ samples: number, kernel: number, byFunction: Map<string, number> }} Folded */

/**
 * Folds a stream of `perf script` lines into per-process counts, keeping only the samples taken
 * inside one of the process's windows. Each sample is a header line (`<pid>/<tid> <seconds>:`)
 * followed by its stack, innermost frame first, and a blank line.
 * @param {AsyncIterable<string> | Iterable<string>} lines
 * @param {ReadonlyMap<number, ReadonlyArray<readonly [number, number]>>} windows per pid, [start, end] in
 *   seconds of CLOCK_MONOTONIC (what `perf record -k monotonic` stamps and `process.hrtime` reads)
 */
export async function foldSamples(lines, windows) {
  /** @type {Map<number, Folded>} */
  const byPid = new Map([...windows.keys()].map((pid) => [pid, { samples: 0, kernel: 0, byFunction: new Map() }]));
  /** @type {{ pid: number, tid: number, time: number } | undefined} */
  let header;
  /** @type {string[]} */
  let frames = [];
  const flush = () => {
    const sample = header;
    const entry = sample && byPid.get(sample.pid);
    if (sample && entry && frames.length > 0 && (windows.get(sample.pid) ?? []).some(([start, end]) => sample.time >= start && sample.time <= end)) {
      entry.samples++;
      const inKernel = frames.some((frame) => KERNEL_ENTRY.test(frame));
      if (inKernel) entry.kernel++;
      const key = attribute(frames, sample.pid === sample.tid) + (inKernel ? ' [kernel]' : '');
      entry.byFunction.set(key, (entry.byFunction.get(key) ?? 0) + 1);
    }
    header = undefined;
    frames = [];
  };
  for await (const line of lines) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (header === undefined) {
      const match = /^\s*(\d+)\/(\d+)\s+([\d.]+):/.exec(line);
      header = match ? { pid: Number(match[1]), tid: Number(match[2]), time: Number(match[3]) } : { pid: -1, tid: -1, time: 0 };
      continue;
    }
    // "\t    7f3c2a1b4c5d Builtins_LoadIC" → "Builtins_LoadIC"
    frames.push(line.trim().replace(/^[0-9a-f]+\s+/, '').replace(/\+0x[0-9a-f]+$/, ''));
  }
  flush();
  return byPid;
}

/**
 * Who a sample's cost belongs to: the innermost JavaScript function (native code it called, V8's
 * builtins, node's C++, libc, the kernel, counts as that function's); else the collector; else the
 * main thread outside JavaScript (the event loop, the HTTP parser) or another thread (V8's
 * compiler, libuv's pool).
 */
function attribute(/** @type {readonly string[]} */ frames, /** @type {boolean} */ mainThread) {
  const js = frames.find((frame) => frame.startsWith('JS:'));
  if (js) return cleanJsName(js);
  if (frames.some((frame) => GARBAGE_COLLECTION.test(frame))) return '(garbage collection)';
  return mainThread ? '(main thread, outside JavaScript)' : '(other threads: compiler, thread pool)';
}

/** "JS:*deliver file:///…/dist/gateway/main.mjs:180:31948" → "deliver main.mjs:180:31948" (V8's tier marks dropped). */
function cleanJsName(/** @type {string} */ frame) {
  return (
    frame
      .replace(/^JS:[*^~+]?/, '')
      .replace(/ file:\/\/\/\S*\/([^/\s]+)$/, ' $1')
      .replace(/ \/\S*\/node_modules\/(\S+)$/, ' $1')
      .trim() || '(anonymous)'
  );
}

/**
 * Runs `perf script` on a recording and folds the samples of the windows' processes.
 * @param {string} file
 * @param {ReadonlyMap<number, ReadonlyArray<readonly [number, number]>>} windows
 */
export async function readRecording(file, windows) {
  const child = spawn('perf', ['script', '-i', file, '-F', 'pid,tid,time,ip,sym', '--pid', [...windows.keys()].join(',')], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const folded = await foldSamples(createInterface({ input: child.stdout, crlfDelay: Infinity }), windows);
  const code = await exited;
  if (code !== 0) throw new Error(`perf script exited with ${code}`);
  return folded;
}

/**
 * The functions whose samples per operation differ most between two processes.
 * @param {Folded} a
 * @param {Folded} b
 * @param {number} opsA
 * @param {number} opsB
 */
export function largestDifferences(a, b, opsA, opsB, count = 25) {
  const names = new Set([...a.byFunction.keys(), ...b.byFunction.keys()]);
  return [...names]
    .map((name) => {
      const perOpA = (a.byFunction.get(name) ?? 0) / opsA;
      const perOpB = (b.byFunction.get(name) ?? 0) / opsB;
      return { name, perOpA, perOpB, difference: perOpA - perOpB };
    })
    .sort((x, y) => Math.abs(y.difference) - Math.abs(x.difference))
    .slice(0, count);
}
