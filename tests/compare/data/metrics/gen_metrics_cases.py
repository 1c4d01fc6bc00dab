#!/usr/bin/python3
"""Writes metric test cases for tests/compare/test_metrics.c.

Each case is ref.npy / tgt.npy (+ quantization parameters) and the expected
metrics computed here with numpy in float64, straight from the definitions
of spec/report.md. Deterministic: re-running reproduces the same files.
Run: /usr/bin/python3 tests/compare/data/metrics/gen_metrics_cases.py
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261121)


def dequant(x, q):
    if q is None or x.dtype.kind not in "iu":
        return x.astype(np.float64)
    scale = np.asarray(q["scale"], np.float32).astype(np.float64)  # ONNX scales are float32
    zp = np.asarray(q["zero_point"], np.float64)
    if q["axis"] >= 0:
        shape = [1] * x.ndim
        shape[q["axis"]] = -1
        scale = scale.reshape(shape)
        zp = zp.reshape(shape)
    return (x.astype(np.float64) - zp) * scale


def on_grid(x_raw, x, q):
    """raw integers when x is that integer tensor, else quantize x."""
    lo, hi = {"int8": (-128, 127), "uint8": (0, 255)}[q["dtype"]]
    if x_raw.dtype.kind in "iu":
        return x_raw.astype(np.float64)
    scale = np.asarray(q["scale"], np.float32).astype(np.float64)  # ONNX scales are float32
    zp = np.asarray(q["zero_point"], np.float64)
    if q["axis"] >= 0:
        shape = [1] * x.ndim
        shape[q["axis"]] = -1
        scale = scale.reshape(shape)
        zp = zp.reshape(shape)
    return np.clip(np.rint(x / scale) + zp, lo, hi)


def metrics(ref_raw, tgt_raw, rq=None, tq=None, top1_axis=-1):
    r = dequant(ref_raw, rq)
    t = dequant(tgt_raw, tq)
    out = {
        "nan_ref": int(np.isnan(r).sum()), "nan_tgt": int(np.isnan(t).sum()),
        "inf_ref": int(np.isinf(r).sum()), "inf_tgt": int(np.isinf(t).sum()),
    }
    ok = np.isfinite(r) & np.isfinite(t)
    rf, tf = r[ok], t[ok]
    d = tf - rf
    n = rf.size
    nr, nt = np.sqrt((rf * rf).sum()), np.sqrt((tf * tf).sum())
    if nr == 0 and nt == 0:
        cos = 1.0
    elif nr == 0 or nt == 0:
        cos = 0.0
    else:
        cos = min(1.0, float((rf * tf).sum() / (nr * nt)))
    sd2 = float((d * d).sum())
    sr2 = float((rf * rf).sum())
    out["n_elements"] = int(n)
    out["cosine"] = cos
    out["max_abs"] = float(np.abs(d).max()) if n else 0.0
    out["mean_abs"] = float(np.abs(d).mean()) if n else 0.0
    out["rmse"] = float(np.sqrt((d * d).mean())) if n else 0.0
    out["sqnr_db"] = None if sd2 == 0 else float(10 * np.log10(sr2 / sd2)) if sr2 > 0 else "-inf"
    out["rel_l2"] = 0.0 if sd2 == 0 else (float(np.sqrt(sd2 / sr2)) if sr2 > 0 else "inf")
    maxr = float(np.abs(rf).max()) if n else 0.0
    denom = np.maximum(np.abs(rf), 1e-12 * maxr)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(d == 0, 0.0, np.abs(d) / denom)
    out["max_rel"] = float(rel.max()) if n else 0.0
    out["exact_ratio"] = float((tf == rf).mean()) if n else 1.0
    grid = tq if tq is not None else rq
    if grid is not None:
        qr = on_grid(ref_raw, r, grid)[ok]
        qt = on_grid(tgt_raw, t, grid)[ok]
        lo, hi = {"int8": (-128, 127), "uint8": (0, 255)}[grid["dtype"]]
        out["max_abs_lsb"] = float(np.abs(qt - qr).max()) if n else 0.0
        out["saturation"] = float(((qt <= lo) | (qt >= hi)).mean()) if n else 0.0
    if top1_axis >= 0:
        out["top1_agree"] = float((np.argmax(r, axis=top1_axis) == np.argmax(t, axis=top1_axis)).mean())
    return out


cases = []


def add(name, ref, tgt, rq=None, tq=None, top1_axis=-1, channel_axis=-1):
    np.save(os.path.join(HERE, name + "_ref.npy"), ref)
    np.save(os.path.join(HERE, name + "_tgt.npy"), tgt)
    case = {"name": name, "reference_quant": rq, "target_quant": tq,
            "top1_axis": top1_axis,
            "expected": metrics(ref, tgt, rq, tq, top1_axis)}
    if channel_axis >= 0:
        case["channel_axis"] = channel_axis
        case["per_channel"] = [
            metrics(np.take(ref, c, axis=channel_axis), np.take(tgt, c, axis=channel_axis))
            for c in range(ref.shape[channel_axis])]
    cases.append(case)


x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
add("random_close", x, (x + 0.01 * rng.standard_normal(x.shape)).astype(np.float32),
    channel_axis=1)
add("identical", x, x.copy())
add("negated", x, -x)
add("both_zero", np.zeros((7,), np.float32), np.zeros((7,), np.float32))
add("reference_zero", np.zeros((4,), np.float32), np.array([0, 1, 0, -2], np.float32))
add("target_zero", np.array([3, 0, 0, 4], np.float32), np.zeros((4,), np.float32))
add("empty", np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))
add("non_finite",
    np.array([1, np.nan, 2, np.inf, 5, 6], np.float32),
    np.array([1.5, 1, np.nan, 3, -np.inf, 6], np.float32))
add("float64_vs_float32", x.astype(np.float64) + 1e-9, x)
# int8 target with per-tensor scale against a float reference
s = 0.05
q8 = np.clip(np.rint(x / s), -128, 127).astype(np.int8)
q8.flat[7] = np.int8(max(-128, int(q8.flat[7]) - 3))  # a 3-LSB error
q8.flat[11] = 127                                    # saturated element
add("int8_target_per_tensor", x, q8, None,
    {"scale": [s], "zero_point": [0], "axis": -1, "dtype": "int8"})
# uint8 with zero point, per-axis scales on axis 1
scales = [0.02, 0.04, 0.08]
zps = [128, 120, 131]
xs = x * 2
u8 = np.empty(xs.shape, np.uint8)
for c in range(3):
    u8[:, c] = np.clip(np.rint(xs[:, c] / scales[c]) + zps[c], 0, 255)
add("uint8_target_per_axis", xs, u8, None,
    {"scale": scales, "zero_point": zps, "axis": 1, "dtype": "uint8"})
# both integer with the same grid: exact LSB
add("int8_both", q8, np.clip(q8.astype(np.int16) + np.arange(q8.size).reshape(q8.shape) % 3 - 1, -128, 127).astype(np.int8),
    {"scale": [s], "zero_point": [0], "axis": -1, "dtype": "int8"},
    {"scale": [s], "zero_point": [0], "axis": -1, "dtype": "int8"})
# classifier outputs for top-1 agreement
logits = rng.standard_normal((4, 10)).astype(np.float32)
noisy = logits.copy()
noisy[1] = logits[1][::-1]
add("top1_outputs", logits, noisy, top1_axis=1)

with open(os.path.join(HERE, "cases.json"), "w") as f:
    json.dump(cases, f, indent=1, sort_keys=True)
    f.write("\n")
