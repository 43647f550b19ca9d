/* toymodels-live.js: live fits of the toy models in the reader's browser (no kernel, no server,
 * nothing fetched; works from a file:// address). Dependency-free; draws with the plotly.js the book serves.
 *
 * The same conventions as the Python package toymodels:
 *   - W is (hidden × feature), stored row-major: W[k * n + i] is component k of feature i's direction W_i;
 *   - x' = act(Wᵀ h + b) with h = W x ("relu_output") or h = ReLU(W x) ("relu_hidden", the privileged basis), act
 *     one of ACTIVATIONS; loss = mean over batch and features of I_i (x_i − x'_i)², importance from 0;
 *   - the one-draw sparse sampler: with u ~ U[0, 1), x_i = max(0, 1 − u / p_i) (active w.p. p_i, then uniform);
 *     correlated sets of k features are active together (one draw per set, the density of its first feature),
 *     anticorrelated sets have one feature active at most (the paper's convention, toymodels.data);
 *   - Xavier-normal initial W (std √(2 / (n + m))), b = 0; AdamW exactly as torch.optim.AdamW computes it;
 *   - best-of-K: K fits side by side, the lowest loss on fresh evaluation batches (the same for every fit) kept.
 * Random draws come from sfc32 streams, not from PyTorch's: a live fit is not the precomputed fit of the
 * same setting, only a fit of the same model.
 *
 * The Python side (toymodels/kit/browser.py) writes each live widget as <div class="toymodels-live"> holding a
 * JSON configuration; the book's Sphinx extension serves this file on pages with such a div.
 */
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.ToymodelsLive = api;
  if (typeof document !== "undefined") api.startAll(document);
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ---------------------------------------------------------------------------------------------------
  // Random numbers: sfc32 (32-bit state words), seeded through splitmix32 from (seed, stream...).

  function splitmix32(a) {
    return function () {
      a = (a + 0x9e3779b9) | 0;
      let z = a;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
  }

  /** sfc32 state for the stream (seed, ...keys): equal keys give equal numbers, other keys independent ones. */
  function streamState(seed, keys) {
    let mix = splitmix32(seed >>> 0);
    for (const key of keys) mix = splitmix32((mix() ^ Math.imul(key + 1, 0x27d4eb2d)) >>> 0);
    const state = new Int32Array([mix(), mix(), mix(), mix()]);
    fillUniform(state, new Float64Array(12), 12); // warm-up, as sfc32's authors advise
    return state;
  }

  /** count uniforms on [0, 1) into out from an sfc32 state (updated in place): one 32-bit word each. */
  function fillUniform(state, out, count) {
    let a = state[0], b = state[1], c = state[2], d = state[3];
    for (let j = 0; j < count; j++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[j] = (t >>> 0) * 2.3283064365386963e-10; // 2^-32
    }
    state[0] = a; state[1] = b; state[2] = c; state[3] = d;
    return out;
  }

  /** A uniform [0, 1) generator for the stream (seed, ...keys), with its state (for sampleBatch). */
  function uniforms(seed, ...keys) {
    const state = streamState(seed, keys), one = new Float64Array(1);
    const next = () => fillUniform(state, one, 1)[0];
    next.state = state;
    return next;
  }

  /** Standard normal draws (Box–Muller) from a uniform generator. */
  function normal(uniform) {
    const u = 1 - uniform(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  }

  // ---------------------------------------------------------------------------------------------------
  // The model: data, loss and hand-derived gradients, AdamW.

  /** A batch of B samples (sample-major, x[s * n + i]) from the generator's stream, in place; returns x.
   * Independent features (correlation "none"): x_i = max(0, 1 − u / p_i), one draw each. Sets of setSize
   * consecutive features, the set's density p that of its first feature: "correlated", one draw decides whether
   * the whole set is active, then each value is uniform; "anticorrelated", one draw u decides it all: the set is
   * active when u < p, then k u / p in [0, k) names the feature (its integer part) and its value (the rest). */
  function sampleBatch(uniform, probability, B, x, correlation = "none", setSize = 1) {
    const n = probability.length, total = B * n;
    if (correlation === "none") {
      fillUniform(uniform.state, x, total);
      const inverse = probability.map((p) => 1 / p);
      for (let at = 0, i = 0; at < total; at++) {
        const v = 1 - x[at] * inverse[i];
        x[at] = v > 0 ? v : 0;
        if (++i === n) i = 0;
      }
      return x;
    }
    const k = setSize, sets = n / k, draws = fillUniform(uniform.state, new Float64Array(B * sets), B * sets);
    if (correlation === "correlated") {
      fillUniform(uniform.state, x, total);
      for (let s = 0, d = 0; s < B; s++)
        for (let set = 0; set < sets; set++, d++)
          if (draws[d] >= probability[set * k]) x.fill(0, s * n + set * k, s * n + set * k + k);
      return x;
    }
    if (correlation !== "anticorrelated") throw new Error(`correlation must be none, correlated or anticorrelated, got ${correlation}`);
    x.fill(0);
    for (let s = 0, d = 0; s < B; s++)
      for (let set = 0; set < sets; set++, d++) {
        const position = (k * draws[d]) / probability[set * k];
        if (position < k) {
          const which = Math.floor(position);
          x[s * n + set * k + which] = position - which;
        }
      }
    return x;
  }

  // ---------------------------------------------------------------------------------------------------
  // Output nonlinearities: each writes act(z) and act'(z) into out[0], out[1] (toymodels.models.activation_and_slope).

  /** erfc to ~1e-14 relative (the Chebyshev fit of Numerical Recipes, 3rd ed., §6.2.2), for GELU's Φ. */
  const ERFC_COEFFICIENTS = [-1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6,
    1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10,
    -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16,
    7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17];

  function erfc(x) {
    const z = Math.abs(x), t = 2 / (2 + z), ty = 4 * t - 2;
    let d = 0, dd = 0;
    for (let j = ERFC_COEFFICIENTS.length - 1; j > 0; j--) {
      const previous = d;
      d = ty * d - dd + ERFC_COEFFICIENTS[j];
      dd = previous;
    }
    const value = t * Math.exp(-z * z + 0.5 * (ERFC_COEFFICIENTS[0] + ty * d) - dd);
    return x >= 0 ? value : 2 - value;
  }

  const SQRT_HALF = Math.SQRT1_2, INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI), SOFTPLUS_THRESHOLD = 20;
  const sigmoid = (z) => 1 / (1 + Math.exp(-z));
  const ACTIVATIONS = {
    relu(z, out) { out[0] = z > 0 ? z : 0; out[1] = z > 0 ? 1 : 0; },
    gelu(z, out) { // z Φ(z): Φ + z φ
      const cdf = 0.5 * erfc(-z * SQRT_HALF);
      out[0] = z * cdf; out[1] = cdf + z * Math.exp(-0.5 * z * z) * INV_SQRT_2PI;
    },
    silu(z, out) { const s = sigmoid(z); out[0] = z * s; out[1] = s * (1 + z * (1 - s)); },
    softplus(z, out) { // torch's: the identity above its threshold of 20
      if (z > SOFTPLUS_THRESHOLD) { out[0] = z; out[1] = 1; } else { out[0] = Math.log1p(Math.exp(z)); out[1] = sigmoid(z); }
    },
    sigmoid(z, out) { const s = sigmoid(z); out[0] = s; out[1] = s * (1 - s); },
    tanh(z, out) { const t = Math.tanh(z); out[0] = t; out[1] = 1 - t * t; },
    none(z, out) { out[0] = z; out[1] = 1; },
  };
  const KINDS = ["relu_output", "relu_hidden"];

  /** The model's options checked: {activation, hidden} for lossAndGrads. */
  function modelOf(options) {
    const { kind = "relu_output", activation = "relu" } = options;
    if (!KINDS.includes(kind)) throw new Error(`kind must be one of ${KINDS.join(", ")}, got ${kind}`);
    if (!(activation in ACTIVATIONS)) throw new Error(`activation must be one of ${Object.keys(ACTIVATIONS).join(", ")}, got ${activation}`);
    return { activation, hidden: kind === "relu_hidden" };
  }

  /**
   * Loss (mean over the B samples and n features of I_i (x_i − x'_i)², x' = act(Wᵀ h + b)) and, when gradW and
   * gradB are given, its gradients, written into them. model: {activation ("relu"), hidden (false: h = W x; true:
   * h = ReLU(W x))}. With g_i = 2 I_i (x'_i − x_i) act'(pre_i) / (B n): ∂b = Σ g, ∂W = Σ_samples h gᵀ (decoder)
   * + (W g ⊙ h's ReLU mask) xᵀ (encoder). Samples with no active feature all give h = 0, x' = act(b): counted,
   * and added once.
   */
  function lossAndGrads(W, b, x, importance, m, B, gradW, gradB, model = {}) {
    const { activation = "relu", hidden = false } = model;
    if (m === 2 && activation === "relu" && !hidden) return lossAndGrads2(W, b, x, importance, B, gradW, gradB);
    const act = ACTIVATIONS[activation], pair = new Float64Array(2);
    const n = importance.length;
    const scale = 2 / (B * n);
    const h = new Float64Array(m), gh = new Float64Array(m), g = new Float64Array(n);
    const active = new Int32Array(n);
    const grads = gradW !== undefined;
    if (grads) {
      gradW.fill(0);
      gradB.fill(0);
    }
    let loss = 0, empty = 0;
    for (let s = 0, base = 0; s < B; s++, base += n) {
      let count = 0;
      for (let i = 0; i < n; i++) if (x[base + i] !== 0) active[count++] = i;
      if (count === 0) {
        empty++;
        continue;
      }
      for (let k = 0; k < m; k++) {
        let sum = 0;
        for (let a = 0; a < count; a++) sum += W[k * n + active[a]] * x[base + active[a]];
        h[k] = hidden && sum < 0 ? 0 : sum;
        gh[k] = 0;
      }
      for (let i = 0; i < n; i++) {
        let pre = b[i];
        for (let k = 0; k < m; k++) pre += W[k * n + i] * h[k];
        act(pre, pair);
        const r = pair[0] - x[base + i];
        loss += importance[i] * r * r;
        g[i] = scale * importance[i] * r * pair[1];
      }
      if (!grads) continue;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        if (gi === 0) continue;
        gradB[i] += gi;
        for (let k = 0; k < m; k++) {
          gh[k] += W[k * n + i] * gi;
          gradW[k * n + i] += h[k] * gi;
        }
      }
      for (let k = 0; k < m; k++) {
        if (hidden && h[k] === 0) continue; // ReLU(W x)'s backward (h = 0 exactly where W x ≤ 0)
        for (let a = 0; a < count; a++) gradW[k * n + active[a]] += gh[k] * x[base + active[a]];
      }
    }
    if (empty > 0)
      for (let i = 0; i < n; i++) {
        act(b[i], pair);
        if (pair[0] === 0) continue;
        loss += empty * importance[i] * pair[0] * pair[0];
        if (grads) gradB[i] += empty * scale * importance[i] * pair[0] * pair[1];
      }
    return loss / (B * n);
  }

  /** lossAndGrads for m = 2 (both chapters' pictures): the same sums, with h and W g held in locals. */
  function lossAndGrads2(W, b, x, importance, B, gradW, gradB) {
    const n = importance.length, scale = 2 / (B * n);
    const W0 = W.subarray(0, n), W1 = W.subarray(n, 2 * n);
    const grads = gradW !== undefined;
    let G0, G1;
    if (grads) {
      gradW.fill(0);
      gradB.fill(0);
      G0 = gradW.subarray(0, n);
      G1 = gradW.subarray(n, 2 * n);
    }
    let loss = 0, empty = 0;
    for (let base = 0, end = B * n; base < end; base += n) {
      let h0 = 0, h1 = 0, any = false;
      for (let i = 0; i < n; i++) {
        const xi = x[base + i];
        if (xi !== 0) {
          h0 += W0[i] * xi;
          h1 += W1[i] * xi;
          any = true;
        }
      }
      if (!any) {
        empty++;
        continue;
      }
      let gh0 = 0, gh1 = 0;
      for (let i = 0; i < n; i++) {
        const pre = b[i] + W0[i] * h0 + W1[i] * h1, xi = x[base + i];
        if (pre > 0) {
          const r = pre - xi, Ir = importance[i] * r;
          loss += Ir * r;
          if (grads) {
            const gi = scale * Ir;
            gradB[i] += gi;
            gh0 += W0[i] * gi;
            gh1 += W1[i] * gi;
            G0[i] += h0 * gi;
            G1[i] += h1 * gi;
          }
        } else loss += importance[i] * xi * xi;
      }
      if (grads)
        for (let i = 0; i < n; i++) {
          const xi = x[base + i];
          if (xi !== 0) {
            G0[i] += gh0 * xi;
            G1[i] += gh1 * xi;
          }
        }
    }
    if (empty > 0)
      for (let i = 0; i < n; i++)
        if (b[i] > 0) {
          loss += empty * importance[i] * b[i] * b[i];
          if (grads) gradB[i] += empty * scale * importance[i] * b[i];
        }
    return loss / (B * n);
  }

  /** AdamW's state for one parameter array. */
  function adamState(size) {
    return { step: 0, expAvg: new Float64Array(size), expAvgSq: new Float64Array(size) };
  }

  /** One AdamW step in place, exactly as torch.optim.AdamW (decoupled weight decay, bias corrections). */
  function adamwStep(param, grad, state, lr, weightDecay, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) {
    state.step += 1;
    const bias1 = 1 - Math.pow(beta1, state.step);
    const bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, state.step));
    const stepSize = lr / bias1, decay = 1 - lr * weightDecay;
    const m = state.expAvg, v = state.expAvgSq;
    for (let j = 0; j < param.length; j++) {
      const gj = grad[j];
      param[j] *= decay;
      m[j] += (gj - m[j]) * (1 - beta1);
      v[j] = v[j] * beta2 + (1 - beta2) * gj * gj;
      param[j] -= (stepSize * m[j]) / (Math.sqrt(v[j]) / bias2Sqrt + eps);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Best-of-K training, in steps that a caller can spread over animation frames.

  const TRAIN_ROLE = 0, INIT_ROLE = 1, EVAL_ROLE = 2;

  /**
   * K fits of the n-feature, m-dimension model for one setting. options: n, m, importance (n), probability
   * (n), fits (K), steps, batchSize, lr, weightDecay, evalBatches, seed; and kind ("relu_output" or
   * "relu_hidden"), activation (a key of ACTIVATIONS), correlation ("none", "correlated", "anticorrelated") with
   * setSize, as toymodels' ModelConfig and DataConfig. run(k) takes k more steps of every fit; best() evaluates
   * the fits (once training is done) and returns {index, W, b, loss, losses}.
   */
  class Fits {
    constructor(options) {
      const { n, m } = options;
      Object.assign(this, { weightDecay: 0.01, evalBatches: 16, seed: 0, correlation: "none", setSize: 1 }, options);
      this.model = modelOf(options);
      if (this.correlation === "none") this.setSize = 1;
      else if (!(Number.isInteger(this.setSize) && this.setSize >= 2 && n % this.setSize === 0))
        throw new Error(`setSize must be an integer >= 2 that divides n = ${n}, got ${this.setSize}`);
      this.importance = Float64Array.from(options.importance);
      this.probability = Float64Array.from(options.probability);
      if (this.importance.length !== n || this.probability.length !== n)
        throw new Error(`importance and probability need ${n} values`);
      this.step = 0;
      this.x = new Float64Array(this.batchSize * n);
      this.gradW = new Float64Array(m * n);
      this.gradB = new Float64Array(n);
      const std = Math.sqrt(2 / (n + m)), K = options.fits;
      this.fits = [];
      for (let f = 0; f < K; f++) {
        const init = uniforms(this.seed, f, INIT_ROLE);
        const W = new Float64Array(m * n);
        for (let j = 0; j < W.length; j++) W[j] = std * normal(init);
        this.fits.push({
          W, b: new Float64Array(n), stateW: adamState(m * n), stateB: adamState(n),
          uniform: uniforms(this.seed, f, TRAIN_ROLE), recent: Infinity,
        });
      }
    }

    get done() {
      return this.step >= this.steps;
    }

    run(count) {
      const { n, m, batchSize, x, gradW, gradB } = this;
      const stop = Math.min(this.steps, this.step + count);
      const taken = stop - this.step;
      for (const fit of this.fits) {
        let sum = 0;
        for (let t = this.step; t < stop; t++) {
          sampleBatch(fit.uniform, this.probability, batchSize, x, this.correlation, this.setSize);
          sum += lossAndGrads(fit.W, fit.b, x, this.importance, m, batchSize, gradW, gradB, this.model);
          adamwStep(fit.W, gradW, fit.stateW, this.lr, this.weightDecay);
          adamwStep(fit.b, gradB, fit.stateB, this.lr, this.weightDecay);
        }
        if (taken > 0) fit.recent = sum / taken;
      }
      this.step = stop;
      return this;
    }

    /** The fit with the lowest recent training loss (what to draw while training). */
    leader() {
      let best = 0;
      this.fits.forEach((fit, f) => { if (fit.recent < this.fits[best].recent) best = f; });
      return { index: best, W: this.fits[best].W, b: this.fits[best].b, loss: this.fits[best].recent };
    }

    /** Every fit's loss on the same fresh evaluation batches, and the lowest-loss fit. */
    best() {
      const { n, m, batchSize } = this;
      const uniform = uniforms(this.seed, 0, EVAL_ROLE);
      const x = new Float64Array(batchSize * n);
      const losses = new Float64Array(this.fits.length);
      for (let e = 0; e < this.evalBatches; e++) {
        sampleBatch(uniform, this.probability, batchSize, x, this.correlation, this.setSize);
        this.fits.forEach((fit, f) => { losses[f] += lossAndGrads(fit.W, fit.b, x, this.importance, m, batchSize, undefined, undefined, this.model); });
      }
      let index = 0;
      for (let f = 0; f < losses.length; f++) {
        losses[f] /= this.evalBatches;
        if (losses[f] < losses[index]) index = f;
      }
      const fit = this.fits[index];
      return { index, W: fit.W, b: fit.b, loss: losses[index], losses };
    }
  }

  /** Train to the end (Node, tests) and return best(). */
  function trainBest(options) {
    const fits = new Fits(options);
    fits.run(fits.steps);
    return fits.best();
  }

  // ---------------------------------------------------------------------------------------------------
  // Measurements (as toymodels.metrics) and the names of geometries (as toymodels.intro / toymodels.phase).

  const NORM_EPS = 1e-8;

  /** ‖W_i‖ for each feature. */
  function featureNorms(W, m, n) {
    const norms = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += W[k * n + i] ** 2;
      norms[i] = Math.sqrt(sum);
    }
    return norms;
  }

  /** D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (0 for a feature that is not learned). */
  function featureDimensionality(W, m, n) {
    const norms = featureNorms(W, m, n);
    const D = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (norms[i] <= NORM_EPS) continue;
      let denominator = 0;
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < m; k++) dot += W[k * n + i] * W[k * n + j];
        denominator += (dot / norms[i]) ** 2;
      }
      D[i] = denominator > 0 ? (norms[i] ** 2) / Math.max(denominator, NORM_EPS ** 2) : 0;
    }
    return D;
  }

  /** The geometry whose dimensionality is within tolerance of D (toymodels.intro.geometry); geometries are
   * [name, D, dims, size] rows from Python, already restricted to those possible in m dimensions. */
  function geometryName(D, geometries, tolerance = 0.03) {
    let best = geometries[0];
    for (const row of geometries) if (Math.abs(row[1] - D) < Math.abs(best[1] - D)) best = row;
    return Math.abs(best[1] - D) <= tolerance ? best[0] : `D = ${D.toFixed(2)}`;
  }

  /** What the features do, e.g. "2 dedicated, 3 not learned" (toymodels.intro.describe). */
  function describe(D, geometries) {
    const names = Array.from(D, (d) => geometryName(d, geometries));
    const sizes = new Map(geometries.map((row) => [row[0], row[3]]));
    const counts = new Map();
    for (const name of names) if (sizes.has(name)) counts.set(name, (counts.get(name) || 0) + 1);
    const whole = new Set([...counts].filter(([name, count]) => count % sizes.get(name) === 0).map(([name]) => name));
    const parts = [...counts].filter(([name]) => whole.has(name)).map(([name, count]) => `${count} ${name}`);
    const others = Array.from(D).filter((_, i) => !whole.has(names[i])).map((d) => d.toFixed(2));
    if (others.length) parts.push(`${others.length} other (D = ${others.join(", ")})`);
    return { names, text: parts.join(", ") };
  }

  /** Index of the nearest phase by the Gram matrix WᵀW (toymodels.phase.classify): grams[phase][order] is n×n. */
  function classify(W, m, n, grams) {
    let bestPhase = 0, bestDistance = Infinity;
    grams.forEach((orders, phase) => {
      for (const candidate of orders) {
        let sum = 0;
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            let dot = 0;
            for (let k = 0; k < m; k++) dot += W[k * n + i] * W[k * n + j];
            sum += (dot - candidate[i][j]) ** 2;
          }
        if (Math.sqrt(sum) < bestDistance) [bestPhase, bestDistance] = [phase, Math.sqrt(sum)];
      }
    });
    return { phase: bestPhase, distance: bestDistance };
  }

  /** The density 1 − S as a decimal of at most 3 significant digits, as toymodels.kit.density_label. */
  function densityLabel(p) {
    return String(Number(p.toPrecision(3)));
  }

  // ---------------------------------------------------------------------------------------------------
  // The widgets (browser only).

  /** A colour of a plotly colorscale ([[t, "rgb(...)" or "#rrggbb"], ...]) at t in [0, 1]. */
  function sampleColorscale(scale, t) {
    const rgb = (c) => (c[0] === "#" ? [1, 3, 5].map((j) => parseInt(c.slice(j, j + 2), 16)) : c.match(/[\d.]+/g).map(Number));
    t = Math.min(1, Math.max(0, t));
    for (let j = 1; j < scale.length; j++)
      if (t <= scale[j][0]) {
        const [t0, c0] = scale[j - 1], [t1, c1] = scale[j];
        const w = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
        const a = rgb(c0), b = rgb(c1);
        return `rgb(${a.map((v, k) => Math.round(v + w * (b[k] - v))).join(", ")})`;
      }
    return scale[scale.length - 1][1];
  }

  function controlValue(control, index) {
    const raw = control.min + index * control.step;
    return control.log ? Math.pow(10, raw) : raw;
  }

  function controlCount(control) {
    return Math.round((control.max - control.min) / control.step);
  }

  /** The setting (importance, probability) of the sliders' values, as the widget's configuration says:
   * importance_i = the product over its factors of value[slider]^exponents[i] (1 without factors), and every
   * feature's probability the value of the density slider. */
  function settingOf(values, n, setting) {
    const importance = Array.from({ length: n }, (_, i) =>
      setting.importance.reduce((I, factor) => I * Math.pow(values[factor.slider], factor.exponents[i]), 1));
    return { importance, probability: Array(n).fill(values[setting.probability.slider]) };
  }

  /** A title from its template: each {name} becomes that slider's value to 3 significant digits (trailing
   * zeros dropped), {name:.2f} to 2 decimals, {name:.3g} to 3 significant digits. */
  function titleOf(template, values) {
    return template.replace(/\{(\w+)(?::\.(\d+)([fg]))?\}/g, (_, name, digits, type) => {
      if (type === "f") return values[name].toFixed(Number(digits));
      if (type === "g") return values[name].toPrecision(Number(digits));
      return densityLabel(values[name]);
    });
  }

  function element(tag, attributes = {}, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The widget's first fit when its container comes into view (not all of a page's widgets at once on load, nor
   * one folded away): widget.train(), unless something trained it first (widget.generation > 0). */
  function trainWhenSeen(container, widget) {
    if (typeof IntersectionObserver === "undefined") return void widget.train();
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      observer.disconnect();
      if (widget.generation === 0) widget.train();
    });
    observer.observe(container);
  }

  /** Calls back soon, without setTimeout's 4 ms clamp (a MessageChannel task), letting the page paint. The
   * channel is made on first use (in Node, an open port would keep the process alive). */
  let channel = null;
  const queue = [];
  function soon(callback) {
    if (typeof MessageChannel === "undefined") return void setTimeout(callback, 0);
    if (channel === null) {
      channel = new MessageChannel();
      channel.port1.onmessage = () => queue.shift()();
    }
    queue.push(callback);
    channel.port2.postMessage(null);
  }

  class LiveWidget {
    constructor(container, config) {
      this.container = container;
      this.config = config;
      this.generation = 0;
      this.lastDraw = 0;
      this.indices = {};
      container.querySelectorAll(".toymodels-live-fallback").forEach((node) => node.remove());
      const controls = element("div", { class: "toymodels-live-controls", style: "display: flex; flex-wrap: wrap; gap: 0.5em 2em;" });
      for (const control of config.controls) {
        const label = element("label", { class: "toymodels-live-control", style: "display: flex; align-items: center; gap: 0.5em;" });
        const input = element("input", {
          type: "range", min: 0, max: controlCount(control), step: 1, value: control.index, name: control.name,
          "aria-label": control.label,
        });
        const readout = element("output");
        label.append(element("span", {}, control.label + " "), input, readout);
        controls.append(label);
        this.indices[control.name] = control.index;
        const show = () => { readout.textContent = " " + controlValue(control, Number(input.value)).toFixed(control.digits); };
        show();
        input.addEventListener("input", () => {
          show();
          this.indices[control.name] = Number(input.value);
          this.train();
        });
      }
      this.status = element("div", { class: "toymodels-live-status", style: "margin: 0.5em 0; font-size: 0.9em;" });
      // A fixed height, as the book's other figures (toymodels.kit.render), or a responsive plot can grow.
      const height = config.figure.layout.height || 480;
      this.plot = element("div", { class: "toymodels-live-figure", id: container.id + "-figure", style: `height: ${height}px; width: 100%;` });
      this.details = element("div", { class: "toymodels-live-details", style: "margin-top: 0.5em;" });
      container.append(controls, this.status, this.plot, this.details);
      Plotly.newPlot(this.plot, config.figure.data, config.figure.layout, config.plotConfig);
      trainWhenSeen(container, this);
    }

    values() {
      const values = {};
      for (const control of this.config.controls) values[control.name] = controlValue(control, this.indices[control.name]);
      return values;
    }

    /** Retrain for the sliders' values: chunks of steps between paints, the leading fit redrawn every
     * drawMs while they train; a newer slider move cancels this run. */
    train() {
      const generation = ++this.generation;
      const { model, train, sliceMs, chunkSteps, drawMs } = this.config;
      const values = this.values();
      const setting = settingOf(values, model.n, this.config.setting);
      const fits = new Fits(Object.assign({}, train, model, setting));
      const started = performance.now();
      let drawn = started, computing = 0, slices = 0;
      this.drawing = 0;
      this.container.dataset.state = "training";
      this.setting(setting, values);
      const chunk = () => {
        if (generation !== this.generation) return;
        const sliceStart = performance.now(), sliceEnd = sliceStart + sliceMs;
        do fits.run(chunkSteps); while (!fits.done && performance.now() < sliceEnd);
        computing += performance.now() - sliceStart;
        slices++;
        if (!fits.done) {
          // Redraws cost a layout of the page (10-20 ms here, far more on a slow phone): never more than a
          // quarter of the time.
          if (performance.now() - drawn >= Math.max(drawMs, 3 * this.lastDraw)) {
            this.drawFit(fits.leader().W, `training\u2026 step ${fits.step} of ${fits.steps}, the leading fit shown`);
            drawn = performance.now();
          }
          soon(chunk);
          return;
        }
        const best = fits.best();
        this.drawFit(best.W, `best of ${fits.fits.length} fits (loss ${best.loss.toPrecision(4)})`);
        this.finish(best.W, setting);
        const seconds = (performance.now() - started) / 1000;
        this.status.textContent += `, trained in ${seconds.toFixed(2)} s`;
        this.container.dataset.state = "done";
        this.container.dataset.seconds = seconds.toFixed(4);
        this.container.dataset.computing = (computing / 1000).toFixed(4); // training alone, without draws or waits
        this.container.dataset.slices = String(slices);
        this.container.dataset.drawing = (this.drawing / 1000).toFixed(4); // in plotly's redraws
        this.container.dataset.updates = String(Number(this.container.dataset.updates || 0) + 1);
      };
      soon(chunk);
    }

    /** The x and y of a panel's traces (lines from the origin, then the tips) for W. */
    panelXY(W, p, update, traces) {
      const { n } = this.config.model, panel = this.config.panels[p];
      panel.lines.forEach((trace, i) => {
        traces.push(trace);
        update.x.push([0, W[i]]);
        update.y.push([0, W[n + i]]);
      });
      traces.push(panel.tips);
      update.x.push(Array.from({ length: n }, (_, i) => W[i]));
      update.y.push(Array.from({ length: n }, (_, i) => W[n + i]));
    }

    /** A new setting: its colours, title and (with phases) the theory's solution, drawn with the fit's first
     * picture (one plotly call: each costs a redraw, 10-20 ms). */
    setting(setting, values) {
      const { panels, colorscale, phases } = this.config;
      const top = Math.max(1, ...setting.importance);
      const colors = setting.importance.map((I) => sampleColorscale(colorscale, I / top));
      const update = { "line.color": [], "marker.color": [], customdata: [] }, traces = [];
      panels.forEach((panel) => {
        panel.lines.forEach((trace, i) => {
          traces.push(trace);
          update["line.color"].push(colors[i]);
          update["marker.color"].push(null);
          update.customdata.push(null);
        });
        traces.push(panel.tips);
        update["line.color"].push(null);
        update["marker.color"].push(setting.importance);
        update.customdata.push(setting.importance);
      });
      if (phases) {
        const [row, column] = phases.sliders.map((name) => this.indices[name]);
        this.predicted = phases.theory[row][column];
        this.theoryW = phases.weights[this.predicted].flat();
        this.details.textContent = `theory: ${phases.descriptions[this.predicted]}; training\u2026`;
      } else this.details.replaceChildren();
      this.status.textContent = this.config.statusPrefix + "training\u2026";
      this.pending = { update, traces, layout: { "title.text": titleOf(this.config.title, values), "coloraxis.cmax": top } };
    }

    /** The fit's panel: x and y only (a restyle), with the new setting's colours and title when pending. */
    drawFit(W, status) {
      const xy = { x: [], y: [] }, order = [];
      this.panelXY(W, 0, xy, order);
      if (this.config.phases) this.panelXY(this.theoryW, 1, xy, order);
      const started = performance.now();
      if (this.pending) {
        const { update, traces, layout } = this.pending;
        update.x = traces.map((trace) => (order.includes(trace) ? xy.x[order.indexOf(trace)] : undefined));
        update.y = traces.map((trace) => (order.includes(trace) ? xy.y[order.indexOf(trace)] : undefined));
        Plotly.update(this.plot, update, layout, traces);
        this.pending = null;
      } else Plotly.restyle(this.plot, xy, order);
      this.lastDraw = performance.now() - started;
      this.drawing += this.lastDraw;
      this.status.textContent = this.config.statusPrefix + status;
    }

    /** What the final fit is: its phase beside the theory's (with phases), else its features' table. */
    finish(W, setting) {
      const { n, m } = this.config.model;
      if (this.config.phases) {
        const fit = classify(W, m, n, this.config.phases.grams), names = this.config.phases.descriptions;
        const agree = fit.phase === this.predicted ? "agree" : "disagree";
        this.details.textContent = `live fit: ${names[fit.phase]} \u00b7 theory: ${names[this.predicted]} (they ${agree})`;
        this.container.dataset.phase = String(fit.phase);
      } else this.details.replaceChildren(this.featureTable(W, setting));
    }

    featureTable(W, setting) {
      const { n, m } = this.config.model;
      const norms = featureNorms(W, m, n), D = featureDimensionality(W, m, n);
      const { names, text } = describe(D, this.config.geometries);
      const table = element("table", { class: "toymodels-table" });
      const head = element("tr");
      for (const column of ["feature", "importance Iᵢ", "‖Wᵢ‖", "Dᵢ", "geometry"]) head.append(element("th", {}, column));
      table.append(element("thead"), element("tbody"));
      table.tHead.append(head);
      for (let i = 0; i < n; i++) {
        const row = element("tr");
        for (const cell of [String(i), setting.importance[i].toFixed(3), norms[i].toFixed(2), D[i].toFixed(2), names[i]])
          row.append(element("td", {}, cell));
        table.tBodies[0].append(row);
      }
      const caption = element("caption", {}, `live fit: ${text}`);
      table.prepend(caption);
      this.container.dataset.geometry = text;
      return table;
    }
  }

  /** The widgets by configuration kind beyond the sliders' LiveWidget: other scripts register theirs here
   * (toymodels-playground.js: "playground") and call startAll again. */
  const widgets = {};
  const OTHER_SCRIPTS = new Set(["playground"]);

  /** Start every live widget of the document (once the page and plotly.js are there); a widget whose script
   * has not registered yet is left for that script's own startAll. */
  function startAll(doc) {
    const start = () => {
      for (const container of doc.querySelectorAll("div.toymodels-live")) {
        if (container.dataset.started) continue;
        const config = JSON.parse(container.querySelector("script.toymodels-live-config").textContent);
        const Widget = widgets[config.kind] || (OTHER_SCRIPTS.has(config.kind) ? null : LiveWidget);
        if (Widget === null) continue;
        container.dataset.started = "1";
        new Widget(container, config);
      }
    };
    if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
    else start();
  }

  return {
    uniforms, normal, sampleBatch, erfc, ACTIVATIONS, lossAndGrads, adamState, adamwStep, Fits, trainBest,
    featureNorms, featureDimensionality, geometryName, describe, classify, densityLabel, sampleColorscale, settingOf,
    titleOf, element, soon, trainWhenSeen, widgets, startAll,
  };
});
