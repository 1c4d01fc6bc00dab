#!/usr/bin/env node
// ort_run.js: runs ONNX models with ONNX Runtime (onnxruntime-node), the peer
// of the benchmark. Not part of the product (bench/README.md).
//
//   node ort_run.js --input IN.npy [--runs N] [--threads N] MODEL.onnx...
//
// Each MODEL is loaded, then run N times on the same input (the models run in
// the order given, like the stages of a chain; every model gets the same
// input, bound to its first graph input). Every output the model declares is
// fetched, so a model rewritten by `onnx_edit mark-outputs` returns every
// intermediate tensor. Prints one JSON line on stdout:
//   {"models":[{"model":..., "create_ms":..., "run_ms":[...], "outputs":N}],
//    "total_ms":..., "max_rss_kb":...}
// Session options: intra-op threads = --threads, inter-op threads = 1,
// sequential execution, all graph optimisations (ORT's default level).
'use strict';

const fs = require('fs');
const path = require('path');

function usage(message) {
  if (message) process.stderr.write(`ort_run: ${message}\n`);
  process.stderr.write(
      'usage: node ort_run.js --input IN.npy [--runs N] [--threads N] ' +
      'MODEL.onnx...\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = {input: null, runs: 1, threads: 2, models: []};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--input') args.input = argv[++i];
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else args.models.push(a);
  }
  if (!args.input || args.models.length === 0) usage();
  if (!(args.runs >= 1) || !(args.threads >= 1)) usage('bad --runs/--threads');
  return args;
}

// Minimal .npy reader (format 1.0/2.0/3.0, little-endian, C order): returns
// {type, dims, data} with `type` an ORT tensor type name.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) throw new Error(`${file}: bad header`);
  if (order[1] === 'True') throw new Error(`${file}: Fortran order`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s)
                   .map(Number);
  const types = {
    '<f4': ['float32', Float32Array], '<f2': ['float16', Uint16Array],
    '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
    '<i4': ['int32', Int32Array], '<i8': ['int64', BigInt64Array],
  };
  const t = types[descr[1]];
  if (!t) throw new Error(`${file}: dtype ${descr[1]} not handled`);
  const count = dims.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const bytes = buf.subarray(offset, offset + count * t[1].BYTES_PER_ELEMENT);
  if (bytes.length !== count * t[1].BYTES_PER_ELEMENT)
    throw new Error(`${file}: truncated data`);
  // copy into an aligned buffer of its own
  const data = new t[1](count);
  new Uint8Array(data.buffer).set(bytes);
  return {type: t[0], dims, data};
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  const npy = readNpy(args.input);
  const input = new ort.Tensor(npy.type, npy.data, npy.dims);
  const options = {
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const report = {models: [], total_ms: 0, max_rss_kb: 0};
  const start = process.hrtime.bigint();
  const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

  for (const model of args.models) {
    let t0 = process.hrtime.bigint();
    const session = await ort.InferenceSession.create(model, options);
    const entry = {model, create_ms: ms(t0), run_ms: [], outputs: 0};
    const feeds = {[session.inputNames[0]]: input};
    for (let r = 0; r < args.runs; r++) {
      t0 = process.hrtime.bigint();
      const results = await session.run(feeds);
      entry.run_ms.push(ms(t0));
      entry.outputs = Object.keys(results).length;
      for (const name of Object.keys(results)) results[name].dispose();
    }
    await session.release();
    report.models.push(entry);
  }
  report.total_ms = ms(start);
  report.max_rss_kb = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_run: ${e.message}\n`);
  process.exit(1);
});
