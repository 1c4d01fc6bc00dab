/* Recurrent kernels: RNN, GRU and LSTM.
 *
 * Golden values come from the numpy script below (Debian's
 * /usr/bin/python3), an independent transcription of the ONNX equations
 * with the semantics documented in runtime/ops/rnn.c: bidirectional and
 * reverse directions, sequence_lens (a length of 0 gives zero final
 * states), initial states, peepholes, clip (also on the cell state given
 * to h), input_forget (f = 1 - i), linear_before_reset, activations with
 * alpha / beta consumed in order, and layout 1. Error paths assert the
 * status and that the message names the node.
 *
 * Generator (prints the arrays between "generated" markers):
 *
 *   import numpy as np
 *
 *   def c(name, a, ctype="float"):
 *       a = np.asarray(a, dtype=np.float64).ravel()
 *       text = ["%.8g" % v for v in a]
 *       if ctype == "float":
 *           text = [(t if "." in t or "e" in t else t + ".0") + "f"
 *                   for t in text]
 *       print("static const %s %s[%d] = {%s};" % (ctype, name, a.size,
 *             ", ".join(text)))
 *
 *   def act(name, x, alpha, beta):
 *       if name == "Relu": return np.maximum(x, 0)
 *       if name == "Tanh": return np.tanh(x)
 *       if name == "Sigmoid": return 1 / (1 + np.exp(-x))
 *       if name == "LeakyRelu": return np.where(x >= 0, x, alpha * x)
 *       if name == "HardSigmoid": return np.clip(alpha * x + beta, 0, 1)
 *       if name == "Softsign": return x / (1 + np.abs(x))
 *       if name == "Elu": return np.where(x >= 0, x, alpha * (np.exp(x) - 1))
 *       raise ValueError(name)
 *
 *   # (alpha, beta) taken by each function and their defaults
 *   TAKES = {"LeakyRelu": (0.01, None), "HardSigmoid": (0.2, 0.5),
 *            "Elu": (1.0, None)}
 *
 *   def activations(names, alphas, betas):
 *       out, ia, ib = [], 0, 0
 *       for n in names:
 *           a, b = TAKES.get(n, (None, None))
 *           if a is not None and ia < len(alphas): a = alphas[ia]; ia += 1
 *           if b is not None and ib < len(betas): b = betas[ib]; ib += 1
 *           out.append((n, a, b))
 *       return out
 *
 *   def reference(kind, X, W, R, B=None, lens=None, h0=None, c0=None, P=None,
 *                 direction="forward", names=None, alphas=(), betas=(),
 *                 clip=None, lbr=0, input_forget=0, layout=0):
 *       X = X.astype(np.float64)
 *       if layout:
 *           X = X.swapaxes(0, 1)
 *           h0 = None if h0 is None else h0.swapaxes(0, 1)
 *           c0 = None if c0 is None else c0.swapaxes(0, 1)
 *       T, N, _ = X.shape
 *       D, H = W.shape[0], R.shape[-1]
 *       per_dir = {"RNN": 1, "GRU": 2, "LSTM": 3}[kind]
 *       if names is None:
 *           names = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"],
 *                    "LSTM": ["Sigmoid", "Tanh", "Tanh"]}[kind] * D
 *       acts = activations(names, alphas, betas)
 *       def cl(v):
 *           return v if clip is None else np.clip(v, -clip, clip)
 *       Y = np.zeros((T, D, N, H))
 *       Yh, Yc = np.zeros((D, N, H)), np.zeros((D, N, H))
 *       for d in range(D):
 *           f = acts[d * per_dir:(d + 1) * per_dir]
 *           F = lambda i, v: act(f[i][0], cl(v), f[i][1], f[i][2])
 *           Wd, Rd = W[d].astype(np.float64), R[d].astype(np.float64)
 *           G = Wd.shape[0]
 *           Wb = np.zeros(G) if B is None else B[d][:G]
 *           Rb = np.zeros(G) if B is None else B[d][G:]
 *           for n in range(N):
 *               L = T if lens is None else lens[n]
 *               h = np.zeros(H) if h0 is None else h0[d, n].astype(float)
 *               cell = np.zeros(H) if c0 is None else c0[d, n].astype(float)
 *               back = direction == "reverse" or d == 1
 *               for t in (range(L - 1, -1, -1) if back else range(L)):
 *                   x = X[t, n]
 *                   if kind == "RNN":
 *                       h = F(0, Wd @ x + Rd @ h + Wb + Rb)
 *                   elif kind == "GRU":
 *                       xw = Wd @ x + Wb
 *                       z = F(0, xw[:H] + Rd[:H] @ h + Rb[:H])
 *                       r = F(0, xw[H:2*H] + Rd[H:2*H] @ h + Rb[H:2*H])
 *                       if lbr:
 *                           hh = F(1, xw[2*H:] + r * (Rd[2*H:] @ h
 *                                                     + Rb[2*H:]))
 *                       else:
 *                           hh = F(1, xw[2*H:] + Rd[2*H:] @ (r * h)
 *                                  + Rb[2*H:])
 *                       h = (1 - z) * hh + z * h
 *                   else:
 *                       g = Wd @ x + Rd @ h + Wb + Rb
 *                       p = np.zeros(3 * H) if P is None else P[d]
 *                       i = F(0, g[:H] + p[:H] * cell)
 *                       if input_forget:
 *                           fg = 1 - i
 *                       else:
 *                           fg = F(0, g[2*H:3*H] + p[2*H:] * cell)
 *                       cell = fg * cell + i * F(1, g[3*H:])
 *                       o = F(0, g[H:2*H] + p[H:2*H] * cell)
 *                       h = o * F(2, cell)
 *                   Y[t, d, n] = h
 *               if L > 0:
 *                   Yh[d, n], Yc[d, n] = h, cell
 *       if layout:
 *           Y = Y.transpose(2, 0, 1, 3)
 *           Yh, Yc = Yh.swapaxes(0, 1), Yc.swapaxes(0, 1)
 *       return Y, Yh, Yc
 *
 *   rng = np.random.RandomState(7)
 *   def rand(*shape):
 *       return rng.uniform(-1, 1, shape).astype(np.float32)
 *
 *   # LSTM: bidirectional, peepholes, initial states, clip, lengths 4, 2, 0
 *   T, N, I, H = 4, 3, 2, 3
 *   X, W, R = rand(T, N, I), rand(2, 4 * H, I), rand(2, 4 * H, H)
 *   B, P = rand(2, 8 * H), rand(2, 3 * H)
 *   h0, c0 = rand(2, N, H), rand(2, N, H)
 *   lens = np.array([4, 2, 0], dtype=np.int32)
 *   for name, v in (("lstm_x", X), ("lstm_w", W), ("lstm_r", R),
 *                   ("lstm_b", B), ("lstm_p", P), ("lstm_h0", h0),
 *                   ("lstm_c0", c0)):
 *       c(name, v)
 *   Y, Yh, Yc = reference("LSTM", X, W, R, B, lens, h0, c0, P,
 *                         "bidirectional", clip=0.8)
 *   c("lstm_y", Y); c("lstm_yh", Yh); c("lstm_yc", Yc)
 *   Y, Yh, Yc = reference("LSTM", X, W, R, B, None, h0, c0, None,
 *                         "bidirectional", input_forget=1)
 *   c("lstm_coupled_y", Y)
 *
 *   # GRU: bidirectional, custom activations with alpha / beta, lengths 3, 1
 *   T, N, I, H = 3, 2, 3, 2
 *   X, W = rand(T, N, I), rand(2, 3 * H, I)
 *   R, B = rand(2, 3 * H, H), rand(2, 6 * H)
 *   h0 = rand(2, N, H)
 *   lens = np.array([3, 1], dtype=np.int32)
 *   for name, v in (("gru_x", X), ("gru_w", W), ("gru_r", R), ("gru_b", B),
 *                   ("gru_h0", h0)):
 *       c(name, v)
 *   names = ["HardSigmoid", "Softsign", "Sigmoid", "Elu"]
 *   for lbr in (0, 1):
 *       Y, Yh, _ = reference("GRU", X, W, R, B, lens, h0, None, None,
 *                            "bidirectional", names, alphas=[0.3, 0.7],
 *                            betas=[0.4], lbr=lbr)
 *       c("gru_lbr%d_y" % lbr, Y); c("gru_lbr%d_yh" % lbr, Yh)
 *
 *   # RNN: reverse, LeakyRelu, layout 1 (X [batch, seq, input])
 *   T, N, I, H = 3, 2, 2, 4
 *   X, W, R, B = rand(N, T, I), rand(1, H, I), rand(1, H, H), rand(1, 2 * H)
 *   h0 = rand(N, 1, H)
 *   for name, v in (("rnn_x", X), ("rnn_w", W), ("rnn_r", R), ("rnn_b", B),
 *                   ("rnn_h0", h0)):
 *       c(name, v)
 *   Y, Yh, _ = reference("RNN", X, W, R, B, None, h0, None, None, "reverse",
 *                        ["LeakyRelu"], alphas=[0.2], layout=1)
 *   c("rnn_y", Y); c("rnn_yh", Yh)
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "tests/support/assertions.h"

/* --- generated by the script above --- */
static const float lstm_x[24] = {
    -0.84738344f, 0.55983758f,   -0.12318154f,  0.44693035f,  0.95597905f,
    0.076991744f, 0.0022409274f, -0.85589772f,  -0.46312204f, -0.00023499836f,
    0.35845998f,  0.60747808f,   -0.23811774f,  -0.86812729f, -0.4237088f,
    0.81918705f,  -0.57322931f,  -0.095752075f, 0.86241204f,  -0.95020157f,
    0.20109783f,  0.90025902f,   -0.53939426f,  0.096979842f};
static const float lstm_w[48] = {
    0.81825674f,   -0.73366112f,  0.046825163f,  0.50081974f,  0.33802649f,
    -0.064494282f, -0.59030181f,  -0.018468222f, -0.25523064f, -0.045197692f,
    -0.26821923f,  0.67583597f,   0.53729498f,   -0.37201065f, 0.14525066f,
    -0.4479019f,   -0.094314136f, -0.29404327f,  0.31479892f,  -0.25929785f,
    -0.081814043f, 0.43864825f,   -0.17401634f,  0.81284654f,  -0.63909674f,
    0.48223776f,   -0.15525191f,  -0.14709285f,  0.26875973f,  0.045812402f,
    -0.17022805f,  -0.99714625f,  -0.81547529f,  0.41878879f,  0.048691195f,
    0.39232093f,   0.91093665f,   0.36582771f,   -0.89374262f, -0.38229463f,
    0.18518938f,   -0.52975917f,  0.92994201f,   0.89009643f,  0.69680178f,
    -0.055352006f, 0.68295342f,   -0.73777872f};
static const float lstm_r[72] = {
    -0.38253269f, -0.074007213f, 0.4836944f,   -0.028349543f, -0.72624779f,
    -0.31292695f, -0.35114765f,  -0.3991622f,  -0.66899723f,  -0.17019646f,
    -0.10375869f, 0.54980075f,   0.59278142f,  0.044780254f,  -0.078739405f,
    0.55642718f,  0.77457792f,   0.34983754f,  0.60095811f,   0.8782227f,
    -0.91868836f, 0.75134343f,   -0.44687384f, -0.048471f,    0.59352189f,
    0.43448445f,  -0.70570487f,  0.31749651f,  -0.86149585f,  -0.28585875f,
    0.62565911f,  -0.14459033f,  0.19970888f,  0.45632258f,   0.64245522f,
    0.52103025f,  -0.98571342f,  -0.15948634f, -0.073727563f, -0.88900101f,
    0.082884267f, 0.2155415f,    0.65690637f,  0.88361853f,   -0.74370432f,
    -0.53913867f, 0.31831679f,   -0.73505205f, -0.55184275f,  0.14972517f,
    -0.66095257f, 0.56446028f,   0.71395123f,  -0.93265158f,  0.065289609f,
    0.59390271f,  0.95027936f,   -0.4514828f,  -0.66179788f,  0.75340188f,
    0.81836492f,  -0.60493422f,  -0.11694051f, 0.43846428f,   0.69069034f,
    -0.66344941f, 0.32993793f,   0.61567092f,  0.099428244f,  -0.67056668f,
    -0.92894238f, -0.43693236f};
static const float lstm_b[48] = {
    0.61574167f,  -0.91046751f, -0.983567f,   -0.27676672f, -0.87275541f,
    -0.70102739f, -0.95361924f, 0.049439672f, 0.39339182f,  -0.14589301f,
    -0.7308591f,  -0.33728558f, 0.1806917f,   0.8813228f,   0.98511541f,
    -0.51679415f, -0.97884017f, 0.66128063f,  0.85322589f,  -0.082793042f,
    0.54288471f,  0.73239809f,  0.21922959f,  0.74525434f,  -0.95219398f,
    -0.45680955f, -0.44556084f, -0.75873512f, 0.82142693f,  -0.93912148f,
    0.34512207f,  -0.85732061f, -0.27843902f, -0.16380091f, -0.63719141f,
    0.042028207f, 0.06998352f,  -0.36591223f, 0.47417611f,  -0.67959517f,
    -0.61498356f, -0.29097795f, -0.24324773f, -0.58742827f, 0.83741844f,
    0.65618712f,  -0.78624654f, -0.26102817f};
static const float lstm_p[18] = {
    -0.53465784f, -0.097842798f, -0.44736564f, 0.0036137823f, 0.84520632f,
    -0.23497772f, 0.30025667f,   0.19124223f,  0.50390714f,   -0.87666935f,
    0.48964736f,  0.89255184f,   0.20711911f,  -0.42484012f,  0.34473842f,
    0.42409757f,  0.31290057f,   -0.70613939f};
static const float lstm_h0[18] = {
    0.94695115f,   0.9107669f,   -0.15074894f, 0.18727466f, -0.92074287f,
    0.9772687f,    0.63748997f,  0.27300468f,  0.52216947f, -0.62394017f,
    -0.38469082f,  -0.5072127f,  0.19209825f,  -0.8161903f, 0.79121995f,
    -0.075448118f, -0.11037527f, -0.79057741f};
static const float lstm_c0[18] = {
    0.36980808f,  0.63378799f,  0.25910035f, -0.51595479f, 0.57084143f,
    -0.70864111f, 0.65455264f,  0.16141073f, -0.42125437f, 0.026486799f,
    0.2577028f,   -0.48282102f, 0.69381315f, -0.15749258f, 0.78467494f,
    0.67093712f,  -0.801305f,   0.29250821f};
static const float lstm_y[72] = {
    0.05957828f,   0.1282488f,    0.25303509f,   0.13564752f,  0.12380202f,
    0.024840364f,  0.0f,          0.0f,          0.0f,         -0.015019239f,
    -0.19826635f,  -0.05160037f,  0.084172559f,  -0.17710115f, -0.025631999f,
    0.0f,          0.0f,          0.0f,          0.153961f,    0.0062605355f,
    0.093633407f,  0.11973011f,   0.012947882f,  0.14823125f,  0.0f,
    0.0f,          0.0f,          -0.056197414f, -0.13777047f, 0.088660355f,
    0.056659224f,  -0.13480464f,  0.11668919f,   0.0f,         0.0f,
    0.0f,          0.21593532f,   -0.069258811f, 0.042994783f, 0.0f,
    0.0f,          0.0f,          0.0f,          0.0f,         0.0f,
    -0.041493229f, -0.14055975f,  0.023986654f,  0.0f,         0.0f,
    0.0f,          0.0f,          0.0f,          0.0f,         0.20586834f,
    -0.12166882f,  -0.046918013f, 0.0f,          0.0f,         0.0f,
    0.0f,          0.0f,          0.0f,          0.042500562f, -0.09236747f,
    -0.029611453f, 0.0f,          0.0f,          0.0f,         0.0f,
    0.0f,          0.0f};
static const float lstm_yh[18] = {
    0.20586834f,  -0.12166882f, -0.046918013f, 0.11973011f,  0.012947882f,
    0.14823125f,  0.0f,         0.0f,          0.0f,         -0.015019239f,
    -0.19826635f, -0.05160037f, 0.084172559f,  -0.17710115f, -0.025631999f,
    0.0f,         0.0f,         0.0f};
static const float lstm_yc[18] = {
    0.95089305f, -0.41469014f, -0.1520767f, 0.33772017f,  0.041788229f,
    0.27650273f, 0.0f,         0.0f,        0.0f,         -0.048483121f,
    -0.2956788f, -0.16800206f, 0.27848468f, -0.29373392f, -0.082866218f,
    0.0f,        0.0f,         0.0f};
static const float lstm_coupled_y[72] = {
    0.060013928f,   0.1148212f,     0.36578138f,    0.1685508f,
    0.039340011f,   -0.08320694f,   0.12439793f,    0.008146963f,
    0.044356609f,   -0.0098064657f, -0.45881397f,   -0.014494128f,
    0.046099968f,   -0.37968254f,   -0.048313175f,  0.064432234f,
    -0.24365313f,   0.054609375f,   0.16074324f,    0.012314555f,
    0.10410675f,    0.14043906f,    -0.004529155f,  0.074470055f,
    0.1318423f,     -0.010642509f,  0.2247198f,     -0.047174925f,
    -0.23885513f,   0.051815138f,   0.061196104f,   -0.36298772f,
    -0.028479428f,  0.036834907f,   -0.37007905f,   -0.0090805995f,
    0.18948203f,    -0.028774697f,  0.033358935f,   0.12275402f,
    -0.0030457844f, 0.27960691f,    0.17509184f,    -0.033528263f,
    0.23405685f,    -0.021568669f,  -0.20148605f,   0.03709488f,
    0.050650189f,   -0.33813351f,   -0.0221131f,    0.04232275f,
    -0.43435768f,   -0.0063977602f, 0.14309539f,    -0.046739745f,
    -0.058532903f,  0.1060531f,     -0.0010827454f, 0.36983463f,
    0.15991024f,    -0.037355569f,  0.28209805f,    0.037443704f,
    -0.079769229f,  0.028124139f,   0.01908178f,    -0.14361599f,
    0.048831601f,   0.15613236f,    -0.53490187f,   0.010591345f};
static const float gru_x[18] = {
    -0.37901086f, 0.50810641f,  0.085263312f, -0.084802248f, 0.79073358f,
    -0.88549286f, 0.11463525f,  -0.34417781f, -0.92945331f,  0.50703704f,
    0.12348131f,  0.78829068f,  0.19652246f,  -0.32593143f,  0.97043931f,
    -0.76857191f, -0.89479649f, 0.46524382f};
static const float gru_w[36] = {
    -0.25825021f, -0.27706984f, 0.75306433f,  -0.3454127f,  0.77797717f,
    0.28797597f,  -0.34190091f, -0.88093472f, -0.5097813f,  0.93682641f,
    -0.18946472f, -0.67993307f, -0.40397349f, 0.79915154f,  -0.67004657f,
    0.55572015f,  -0.73027074f, 0.92278743f,  0.060410772f, -0.91366011f,
    0.86190933f,  -0.28354892f, 0.46284255f,  0.047416031f, -0.81483638f,
    -0.78788155f, -0.70155013f, -0.67759997f, -0.89448839f, -0.90597367f,
    0.89685661f,  -0.81741643f, 0.016703352f, -0.76274037f, -0.57042432f,
    0.52614415f};
static const float gru_r[24] = {
    0.87626964f,  -0.06057461f, -0.98871607f,  0.9984166f,   -0.90445358f,
    -0.22110419f, 0.078113399f, 0.78346688f,   0.6462242f,   0.21877328f,
    -0.20279542f, 0.66895741f,  0.7381168f,    0.74380982f,  0.43527287f,
    -0.8044253f,  -0.40284115f, -0.028155887f, 0.010106734f, 0.66574681f,
    -0.52432644f, 0.32918152f,  -0.25160021f,  0.55096513f};
static const float gru_b[24] = {
    -0.60845137f, -0.046745412f, -0.79288286f,  -0.57601964f, 0.87034935f,
    -0.36790577f, 0.785954f,     0.048606176f,  -0.92193371f, 0.58596337f,
    -0.89608622f, 0.65388703f,   -0.98240179f,  0.34822264f,  -0.66857213f,
    -0.31424952f, 0.9055028f,    -0.027533054f, 0.31485277f,  0.4814702f,
    -0.78014404f, 0.6775915f,    0.82783985f,   -0.68915868f};
static const float gru_h0[8] = {0.09247686f,  -0.43298975f, 0.48129347f,
                                -0.94345921f, 0.025094006f, 0.5856297f,
                                0.46947381f,  -0.78363234f};
static const float gru_lbr0_y[24] = {
    0.20607693f,    -0.29920631f, 0.51975664f,  -0.6080722f,  1.2302133f,
    -0.0025956912f, 0.79444677f,  -0.76020343f, 0.20075348f,  -0.27500877f,
    0.0f,           0.0f,         1.5238662f,   0.055151552f, 0.0f,
    0.0f,           0.018207001f, 0.38331029f,  0.0f,         0.0f,
    0.66430195f,    0.32116363f,  0.0f,         0.0f};
static const float gru_lbr0_yh[8] = {0.018207001f, 0.38331029f, 0.51975664f,
                                     -0.6080722f,  1.2302133f,  -0.0025956912f,
                                     0.79444677f,  -0.76020343f};
static const float gru_lbr1_y[24] = {
    0.33945453f,  -0.4431733f, 0.61322243f, -0.67423485f, 0.59915754f,
    0.053178969f, 0.24547826f, -0.7553374f, 0.46274402f,  -0.42934102f,
    0.0f,         0.0f,        1.0961712f,  0.11999487f,  0.0f,
    0.0f,         0.35667216f, 0.36973188f, 0.0f,         0.0f,
    0.43546548f,  0.47095553f, 0.0f,        0.0f};
static const float gru_lbr1_yh[8] = {0.35667216f,  0.36973188f, 0.61322243f,
                                     -0.67423485f, 0.59915754f, 0.053178969f,
                                     0.24547826f,  -0.7553374f};
static const float rnn_x[12] = {0.6658802f,     -0.52431852f, 0.61557525f,
                                -0.0057423362f, -0.67834848f, 0.46808136f,
                                0.61582589f,    0.39780229f,  0.92969269f,
                                -0.4877111f,    -0.52847534f, -0.70553982f};
static const float rnn_w[8] = {0.07881242f,   -0.20110236f, -0.2866759f,
                               -0.079390801f, -0.45091555f, -0.99147922f,
                               -0.056498621f, -0.44823098f};
static const float rnn_r[16] = {
    -0.10043278f, 0.85775024f,  -0.64198917f,  0.27496716f,
    0.2888298f,   -0.43741363f, -0.058224007f, 0.93922329f,
    -0.31507975f, 0.42469037f,  0.68043834f,   -0.2786178f,
    0.97982824f,  0.25173849f,  0.0019705412f, 0.42981502f};
static const float rnn_b[8] = {-0.15234013f, 0.42465344f,  -0.45039523f,
                               0.85441661f,  0.083925679f, -0.51670098f,
                               -0.12560666f, 0.79019308f};
static const float rnn_h0[8] = {0.61411065f,  -0.031062096f, -0.29659665f,
                                -0.24750517f, 0.96239072f,   -0.77557445f,
                                0.7780478f,   0.71521777f};
static const float rnn_y[24] = {
    2.2169289f,   1.5780364f,   -0.15944706f, 3.960278f,     0.69692067f,
    1.5569232f,   -0.30224507f, 2.4291132f,   -0.036394665f, 0.04102413f,
    -0.21475179f, 1.9600644f,   2.290443f,    2.5489773f,    -0.42132864f,
    5.3542031f,   2.0893047f,   1.8847088f,   -0.13560589f,  3.2603509f,
    -0.20658415f, 1.3591291f,   0.059356268f, 3.0473928f};
static const float rnn_yh[8] = {2.2169289f,   1.5780364f, -0.15944706f,
                                3.960278f,    2.290443f,  2.5489773f,
                                -0.42132864f, 5.3542031f};
/* --- end of generated values --- */

#define NODE_NAME "rnn_under_test"

struct rnn_case {
  const char *op;
  int64_t opset;
  int n_inputs;
  const char *const *inputs;   /* "" for omitted */
  struct sc_tensor *values[8]; /* constants for the named inputs */
  int n_outputs;
};

static struct sc_tensor *f32(int rank, int64_t d0, int64_t d1, int64_t d2,
                             const float *v)
{
  int64_t dims[3];
  dims[0] = d0;
  dims[1] = d1;
  dims[2] = d2;
  return sc_test_tensor_f32(rank, dims, v);
}

static struct sc_tensor *lens32(int n, const double *v)
{
  int64_t dims[1];
  dims[0] = n;
  return sc_test_tensor(SC_DTYPE_INT32, 1, dims, v);
}

/* A graph holding one node `op` whose inputs are constants (values[i] for
 * input i; taken over) and whose outputs y, y_h, y_c are graph outputs. */
static struct sc_graph *rnn_graph(const char *op, int64_t opset, int n_inputs,
                                  struct sc_tensor *const *values,
                                  int n_outputs, struct sc_node **node)
{
  static const char *const names[8] = {"x",    "w",  "r",  "b",
                                       "lens", "h0", "c0", "p"};
  static const char *const outputs[3] = {"y", "y_h", "y_c"};
  const char *inputs[8];
  struct sc_graph *g = NULL;
  int i;
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "", opset, NULL), SC_OK);
  for (i = 0; i < n_inputs; i++) {
    inputs[i] = values[i] ? names[i] : "";
    if (values[i])
      assert_int_equal(sc_graph_add_initializer(g, names[i], values[i], NULL),
                       SC_OK);
  }
  assert_int_equal(sc_graph_add_node(g, NODE_NAME, op, "", n_inputs, inputs,
                                     n_outputs, outputs, node, NULL),
                   SC_OK);
  for (i = 0; i < n_outputs; i++)
    assert_int_equal(sc_graph_add_output(g, outputs[i], NULL), SC_OK);
  return g;
}

static void set_int(struct sc_node *node, const char *name, int64_t v)
{
  assert_int_equal(sc_node_set_attr_int(node, name, v, NULL), SC_OK);
}

static void set_string(struct sc_node *node, const char *name, const char *v)
{
  assert_int_equal(sc_node_set_attr_string(node, name, v, strlen(v), NULL),
                   SC_OK);
}

/* Sets the STRINGS attribute `activations` (there is no setter for lists
 * of strings: the attribute is built and handed over). */
static void set_activations(struct sc_node *node, int n,
                            const char *const *names)
{
  struct sc_attr attr;
  int i;
  memset(&attr, 0, sizeof attr);
  attr.name = strdup("activations");
  attr.type = SC_ATTR_STRINGS;
  attr.n = n;
  attr.strings = calloc((size_t)n, sizeof *attr.strings);
  assert_non_null(attr.strings);
  for (i = 0; i < n; i++)
    attr.strings[i] = strdup(names[i]);
  assert_int_equal(sc_node_add_attr(node, &attr, NULL), SC_OK);
}

/* Prepares and runs g; returns its outputs in out[] (caller frees). */
static void run_all(struct sc_graph *g, struct sc_tensor **out)
{
  struct sc_error err;
  if (sc_graph_prepare(g, &err) != SC_OK)
    fail_msg("prepare: %s", err.message);
  if (sc_graph_run(g, 0, NULL, out, NULL, &err) != SC_OK)
    fail_msg("run: %s", err.message);
}

static void expect_close(const struct sc_tensor *actual, int rank,
                         const int64_t *dims, const float *values)
{
  struct sc_tensor *expected = sc_test_tensor_f32(rank, dims, values);
  assert_tensor_close(actual, expected, 2e-6, 1e-5);
  sc_tensor_free(expected);
}

/* Asserts that preparing or running g fails with `status` and a message
 * naming the node and containing `what`. */
static void expect_failure(struct sc_graph *g, sc_status status,
                           const char *what)
{
  struct sc_error err;
  sc_status st = sc_graph_prepare(g, &err);
  if (st == SC_OK)
    st = sc_graph_run(g, 0, NULL, NULL, NULL, &err);
  assert_int_equal(st, status);
  if (!strstr(err.message, NODE_NAME) || !strstr(err.message, what))
    fail_msg("message '%s' should name '%s' and say '%s'", err.message,
             NODE_NAME, what);
}

/* --- LSTM --------------------------------------------------------------- */

static struct sc_graph *lstm_graph(int64_t opset, int with_lens,
                                   int with_peepholes, struct sc_node **node)
{
  static const double lens[3] = {4, 2, 0};
  struct sc_tensor *values[8];
  values[0] = f32(3, 4, 3, 2, lstm_x);
  values[1] = f32(3, 2, 12, 2, lstm_w);
  values[2] = f32(3, 2, 12, 3, lstm_r);
  values[3] = f32(2, 2, 24, 0, lstm_b);
  values[4] = with_lens ? lens32(3, lens) : NULL;
  values[5] = f32(3, 2, 3, 3, lstm_h0);
  values[6] = f32(3, 2, 3, 3, lstm_c0);
  values[7] = with_peepholes ? f32(2, 2, 9, 0, lstm_p) : NULL;
  return rnn_graph("LSTM", opset, 8, values, 3, node);
}

/* Opsets 7 and 14 (the latter with an explicit layout 0) agree. */
static void test_lstm_bidirectional_peepholes_clip_and_lengths(void **state)
{
  static const int64_t opsets[2] = {7, 14};
  int64_t y[4] = {4, 2, 3, 3}, yh[3] = {2, 3, 3};
  int k;
  (void)state;
  for (k = 0; k < 2; k++) {
    struct sc_node *node;
    struct sc_graph *g = lstm_graph(opsets[k], 1, 1, &node);
    struct sc_tensor *out[3] = {NULL, NULL, NULL};
    set_int(node, "hidden_size", 3);
    set_string(node, "direction", "bidirectional");
    assert_int_equal(sc_node_set_attr_float(node, "clip", 0.8f, NULL), SC_OK);
    if (opsets[k] >= 14)
      set_int(node, "layout", 0);
    run_all(g, out);
    expect_close(out[0], 4, y, lstm_y);
    expect_close(out[1], 3, yh, lstm_yh);
    expect_close(out[2], 3, yh, lstm_yc);
    sc_tensor_free(out[0]);
    sc_tensor_free(out[1]);
    sc_tensor_free(out[2]);
    sc_graph_free(g);
  }
}

/* input_forget couples the gates (f = 1 - i); hidden_size is taken from R
 * when the attribute is absent. */
static void test_lstm_input_forget(void **state)
{
  int64_t y[4] = {4, 2, 3, 3};
  struct sc_node *node;
  struct sc_graph *g = lstm_graph(14, 0, 0, &node);
  struct sc_tensor *out[3] = {NULL, NULL, NULL};
  (void)state;
  set_string(node, "direction", "bidirectional");
  set_int(node, "input_forget", 1);
  run_all(g, out);
  expect_close(out[0], 4, y, lstm_coupled_y);
  sc_tensor_free(out[0]);
  sc_tensor_free(out[1]);
  sc_tensor_free(out[2]);
  sc_graph_free(g);
}

/* --- GRU ---------------------------------------------------------------- */

static void test_gru_activations_and_linear_before_reset(void **state)
{
  static const char *const names[4] = {"HardSigmoid", "Softsign", "sigmoid",
                                       "Elu"};
  static const float alphas[2] = {0.3f, 0.7f}, betas[1] = {0.4f};
  static const double lens[2] = {3, 1};
  int64_t y[4] = {3, 2, 2, 2}, yh[3] = {2, 2, 2};
  int lbr;
  (void)state;
  for (lbr = 0; lbr < 2; lbr++) {
    struct sc_tensor *values[6], *out[2] = {NULL, NULL};
    struct sc_node *node;
    struct sc_graph *g;
    values[0] = f32(3, 3, 2, 3, gru_x);
    values[1] = f32(3, 2, 6, 3, gru_w);
    values[2] = f32(3, 2, 6, 2, gru_r);
    values[3] = f32(2, 2, 12, 0, gru_b);
    values[4] = lens32(2, lens);
    values[5] = f32(3, 2, 2, 2, gru_h0);
    g = rnn_graph("GRU", 14, 6, values, 2, &node);
    set_int(node, "hidden_size", 2);
    set_int(node, "linear_before_reset", lbr);
    set_string(node, "direction", "bidirectional");
    set_activations(node, 4, names);
    assert_int_equal(
        sc_node_set_attr_floats(node, "activation_alpha", 2, alphas, NULL),
        SC_OK);
    assert_int_equal(
        sc_node_set_attr_floats(node, "activation_beta", 1, betas, NULL),
        SC_OK);
    run_all(g, out);
    expect_close(out[0], 4, y, lbr ? gru_lbr1_y : gru_lbr0_y);
    expect_close(out[1], 3, yh, lbr ? gru_lbr1_yh : gru_lbr0_yh);
    sc_tensor_free(out[0]);
    sc_tensor_free(out[1]);
    sc_graph_free(g);
  }
}

/* --- RNN ---------------------------------------------------------------- */

static void test_rnn_reverse_layout1_leaky_relu(void **state)
{
  static const char *const names[1] = {"LeakyRelu"};
  static const float alpha[1] = {0.2f};
  int64_t y[4] = {2, 3, 1, 4}, yh[3] = {2, 1, 4};
  struct sc_tensor *values[6], *out[2] = {NULL, NULL};
  struct sc_node *node;
  struct sc_graph *g;
  (void)state;
  values[0] = f32(3, 2, 3, 2, rnn_x);
  values[1] = f32(3, 1, 4, 2, rnn_w);
  values[2] = f32(3, 1, 4, 4, rnn_r);
  values[3] = f32(2, 1, 8, 0, rnn_b);
  values[4] = NULL;
  values[5] = f32(3, 2, 1, 4, rnn_h0);
  g = rnn_graph("RNN", 14, 6, values, 2, &node);
  set_int(node, "hidden_size", 4);
  set_int(node, "layout", 1);
  set_string(node, "direction", "reverse");
  set_activations(node, 1, names);
  assert_int_equal(
      sc_node_set_attr_floats(node, "activation_alpha", 1, alpha, NULL), SC_OK);
  run_all(g, out);
  expect_close(out[0], 4, y, rnn_y);
  expect_close(out[1], 3, yh, rnn_yh);
  sc_tensor_free(out[0]);
  sc_tensor_free(out[1]);
  sc_graph_free(g);
}

/* --- errors ------------------------------------------------------------- */

/* A forward RNN-14 on the rnn_* data with hidden_size 4; `w_rows` rows in
 * W (4 is right), X of dtype `dtype`, optional sequence lengths. */
static struct sc_graph *rnn_error_graph(int64_t w_rows, enum sc_dtype dtype,
                                        const double *lens,
                                        struct sc_node **node)
{
  struct sc_tensor *values[5];
  int64_t xdims[3] = {3, 2, 2};
  double x[12];
  int i;
  for (i = 0; i < 12; i++)
    x[i] = rnn_x[i];
  values[0] = sc_test_tensor(dtype, 3, xdims, x);
  values[1] = f32(3, 1, w_rows, 2, rnn_w);
  values[2] = f32(3, 1, 4, 4, rnn_r);
  values[3] = NULL;
  values[4] = lens ? lens32(2, lens) : NULL;
  *node = NULL;
  return rnn_graph("RNN", 14, lens ? 5 : 3, values, 2, node);
}

static void test_rnn_rejects_bad_shapes_and_values(void **state)
{
  static const double too_long[2] = {5, 1};
  struct sc_node *node;
  struct sc_graph *g;
  (void)state;
  g = rnn_error_graph(3, SC_DTYPE_FLOAT, NULL, &node);
  set_int(node, "hidden_size", 4);
  expect_failure(g, SC_ERR_FORMAT, "input 1 ('w') has shape [1,3,2]");
  sc_graph_free(g);
  g = rnn_error_graph(4, SC_DTYPE_FLOAT, too_long, &node);
  set_int(node, "hidden_size", 4);
  expect_failure(g, SC_ERR_FORMAT, "sequence_lens[0] = 5");
  sc_graph_free(g);
}

static void test_rnn_rejects_bad_attributes(void **state)
{
  static const char *const swish[1] = {"Swish"};
  static const char *const two[2] = {"Tanh", "Tanh"};
  struct sc_node *node;
  struct sc_graph *g;
  (void)state;
  g = rnn_error_graph(4, SC_DTYPE_FLOAT, NULL, &node);
  set_string(node, "direction", "both");
  expect_failure(g, SC_ERR_FORMAT, "invalid value 'both'");
  sc_graph_free(g);
  g = rnn_error_graph(4, SC_DTYPE_FLOAT, NULL, &node);
  set_activations(node, 1, swish);
  expect_failure(g, SC_ERR_UNSUPPORTED, "activation 'Swish'");
  sc_graph_free(g);
  g = rnn_error_graph(4, SC_DTYPE_FLOAT, NULL, &node);
  set_activations(node, 2, two);
  expect_failure(g, SC_ERR_FORMAT, "has 2 names, expected 1");
  sc_graph_free(g);
  g = rnn_error_graph(4, SC_DTYPE_FLOAT, NULL, &node);
  set_int(node, "hidden_size", -3);
  expect_failure(g, SC_ERR_FORMAT, "hidden_size -3");
  sc_graph_free(g);
}

/* Double is not implemented: an answer at prepare time, not a wrong
 * result. */
static void test_rnn_rejects_double(void **state)
{
  struct sc_node *node;
  struct sc_graph *g = rnn_error_graph(4, SC_DTYPE_DOUBLE, NULL, &node);
  (void)state;
  expect_failure(g, SC_ERR_UNSUPPORTED, "float64");
  sc_graph_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lstm_bidirectional_peepholes_clip_and_lengths),
      cmocka_unit_test(test_lstm_input_forget),
      cmocka_unit_test(test_gru_activations_and_linear_before_reset),
      cmocka_unit_test(test_rnn_reverse_layout1_leaky_relu),
      cmocka_unit_test(test_rnn_rejects_bad_shapes_and_values),
      cmocka_unit_test(test_rnn_rejects_bad_attributes),
      cmocka_unit_test(test_rnn_rejects_double),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
