// SPDX-License-Identifier: Apache-2.0
/**
 * Quantizer benchmark (not a test; nothing here asserts a time):
 *   node --import tsx test/bench/quant.bench.ts [--elements N] [--headline N]
 * 1. per-channel INT4 with MSE calibration on a 10 M-element weight ([4000, 2500], channel axis 0);
 * 2. every format of the table: calibrate (min-max, default granularity) and quantize throughput in elements/s.
 */
import { FORMAT_IDS } from '../../analysis/quant/formats';
import { calibrate } from '../../analysis/quant/calibrate';
import { quantize } from '../../analysis/quant/quantize';
import { normal } from '../quant/gen';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const ms = (t0: number) => performance.now() - t0;
/** CPU milliseconds of this process since `c0` (robust when the machine is shared). */
const cpuMs = (c0: NodeJS.CpuUsage) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1000; };
const rate = (n: number, t: number) => (n / (t / 1000) / 1e6).toFixed(1).padStart(8);

function headline(numel: number): void {
  const cols = 2500, rows = Math.round(numel / cols);
  const data = normal(rows * cols, 42);
  const t = { data, dims: [rows, cols] };
  const t0 = performance.now(), c0 = process.cpuUsage();
  const p = calibrate(t, { format: 'int4', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'mse' } });
  const tc = ms(t0), cc = cpuMs(c0);
  const t1 = performance.now(), c1 = process.cpuUsage();
  const r = quantize(t, p);
  const tq = ms(t1), cq = cpuMs(c1);
  console.log(`int4 per-channel MSE calibration, [${rows}, ${cols}] = ${(rows * cols / 1e6).toFixed(1)} M elements`);
  console.log(`  calibrate: wall ${tc.toFixed(0)} ms, cpu ${cc.toFixed(0)} ms (${rate(rows * cols, cc).trim()} M el/s per cpu-second)`);
  console.log(`  quantize:  wall ${tq.toFixed(0)} ms, cpu ${cq.toFixed(0)} ms (${rate(rows * cols, cq).trim()} M el/s per cpu-second)`);
  console.log(`  SQNR ${r.metrics.sqnrDb.toFixed(2)} dB, clipped ${(100 * r.metrics.clipFraction).toFixed(2)}%`);
}

function perFormat(numel: number): void {
  const cols = 1024, rows = Math.round(numel / cols);
  const data = normal(rows * cols, 43);
  const t = { data, dims: [rows, cols] };
  console.log(`\nper format, [${rows}, ${cols}] = ${(rows * cols / 1e6).toFixed(2)} M elements, min-max, default granularity (M elements per cpu-second)`);
  console.log(`${'format'.padEnd(10)} ${'granularity'.padEnd(14)} ${'calib M/s'.padStart(10)} ${'quant M/s'.padStart(10)} ${'SQNR dB'.padStart(8)}`);
  for (const id of FORMAT_IDS) {
    calibrate(t, { format: id }); // warm-up (JIT)
    const c0 = process.cpuUsage();
    const p = calibrate(t, { format: id });
    const tc = cpuMs(c0);
    quantize(t, p);
    const c1 = process.cpuUsage();
    const r = quantize(t, p);
    const tq = cpuMs(c1);
    const g = p.granularity.kind === 'group' ? `group:${p.granularity.size}` : p.granularity.kind;
    console.log(`${id.padEnd(10)} ${g.padEnd(14)} ${rate(rows * cols, tc).padStart(10)} ${rate(rows * cols, tq).padStart(10)} ${r.metrics.sqnrDb.toFixed(2).padStart(8)}`);
  }
}

headline(arg('--headline', 10_000_000));
perFormat(arg('--elements', 1 << 20));
