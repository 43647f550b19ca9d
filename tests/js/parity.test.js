// The browser's trainer against PyTorch (node --test tests/js): loss, gradients and AdamW on the fixed batches
// and weights that tools/export_live_fixture.py exports from the toymodels package (tests/js/fixtures/).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const fs = require("node:fs");
const live = require("../../toymodels/kit/static/toymodels-live.js");

const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "parity.json"), "utf8"));
const TOLERANCE = 1e-6; // relative to the largest value compared; float64 on both sides agrees to ~1e-15

function maxRelativeError(actual, expected) {
  const scale = Math.max(1e-30, ...expected.map(Math.abs));
  return Math.max(...expected.map((value, j) => Math.abs(actual[j] - value))) / scale;
}

/** The case's model as lossAndGrads takes it. */
const modelOf = (c) => ({ activation: c.activation, hidden: c.kind === "relu_hidden" });

function evaluate(c) {
  const gradW = new Float64Array(c.m * c.n), gradB = new Float64Array(c.n);
  const B = c.x.length / c.n;
  const loss = live.lossAndGrads(Float64Array.from(c.W), Float64Array.from(c.b), Float64Array.from(c.x),
    Float64Array.from(c.importance), c.m, B, gradW, gradB, modelOf(c));
  return { loss, gradW: Array.from(gradW), gradB: Array.from(gradB) };
}

for (const c of FIXTURE.cases) {
  test(`loss and gradients equal PyTorch's: ${c.name}`, () => {
    const js = evaluate(c);
    const errors = {
      loss: maxRelativeError([js.loss], [c.loss]),
      gradW: maxRelativeError(js.gradW, c.gradW),
      gradB: maxRelativeError(js.gradB, c.gradB),
      autogradW: maxRelativeError(js.gradW, c.autograd.gradW),
      autogradB: maxRelativeError(js.gradB, c.autograd.gradB),
    };
    for (const [name, error] of Object.entries(errors))
      assert.ok(error < TOLERANCE, `${c.name}: ${name} differs from PyTorch's by ${error} (relative): ` +
        "a sign or a factor of the gradient (2 / (batch · n), the ReLU mask, the empty samples)?");
    // Against the trainer's own float32 arithmetic: its rounding only.
    const float32 = Math.max(maxRelativeError([js.loss], [c.float32.loss]), maxRelativeError(js.gradW, c.float32.gradW),
      maxRelativeError(js.gradB, c.float32.gradB));
    assert.ok(float32 < 1e-5, `${c.name}: float32 trainer differs by ${float32}`);
    test.diagnostic?.(`${c.name}: float64 ${Math.max(...Object.values(errors)).toExponential(2)}, float32 ${float32.toExponential(2)}`);
  });

  test(`loss without gradients is the same loss: ${c.name}`, () => {
    const loss = live.lossAndGrads(Float64Array.from(c.W), Float64Array.from(c.b), Float64Array.from(c.x),
      Float64Array.from(c.importance), c.m, c.x.length / c.n, undefined, undefined, modelOf(c));
    assert.ok(Math.abs(loss - c.loss) <= TOLERANCE * Math.abs(c.loss));
  });

  test(`AdamW steps equal torch.optim.AdamW's: ${c.name}`, () => {
    const W = Float64Array.from(c.W), b = Float64Array.from(c.b);
    const x = Float64Array.from(c.x), importance = Float64Array.from(c.importance);
    const stateW = live.adamState(W.length), stateB = live.adamState(b.length);
    const gradW = new Float64Array(W.length), gradB = new Float64Array(b.length);
    for (let t = 0; t < c.adamw.steps; t++) {
      live.lossAndGrads(W, b, x, importance, c.m, c.x.length / c.n, gradW, gradB, modelOf(c));
      live.adamwStep(W, gradW, stateW, c.adamw.lr, c.adamw.weightDecay);
      live.adamwStep(b, gradB, stateB, c.adamw.lr, c.adamw.weightDecay);
    }
    const error = Math.max(maxRelativeError(Array.from(W), c.adamw.W), maxRelativeError(Array.from(b), c.adamw.b));
    assert.ok(error < TOLERANCE, `AdamW differs from torch's by ${error}: bias corrections, or eps inside the sqrt?`);
  });
}

test("erfc (GELU's normal CDF) equals Python's math.erfc to 1e-13, relative", () => {
  for (const [x, expected] of FIXTURE.erfc) {
    const error = Math.abs(live.erfc(x) - expected) / expected;
    assert.ok(error < 1e-13, `erfc(${x}) = ${live.erfc(x)}, Python ${expected}`);
  }
});

test("every activation's slope is its derivative (central differences)", () => {
  const pair = new Float64Array(2), plus = new Float64Array(2), minus = new Float64Array(2), h = 1e-6;
  for (const [name, act] of Object.entries(live.ACTIVATIONS))
    for (const z of [-3.1, -0.7, 0.2, 1.3, 4.5, 19, 21]) {
      act(z, pair); act(z + h, plus); act(z - h, minus);
      const numeric = (plus[0] - minus[0]) / (2 * h);
      assert.ok(Math.abs(pair[1] - numeric) < 1e-6 * Math.max(1, Math.abs(numeric)), `${name}'(${z}) = ${pair[1]}, numerically ${numeric}`);
    }
});

test("correlated sets are active together, anticorrelated sets one feature at most, each at density p", () => {
  const n = 6, k = 2, B = 40000, p = [0.3, 0.3, 0.1, 0.1, 0.05, 0.05];
  for (const correlation of ["correlated", "anticorrelated"]) {
    const x = live.sampleBatch(live.uniforms(5, correlation.length), Float64Array.from(p), B, new Float64Array(B * n), correlation, k);
    for (let set = 0; set < n / k; set++) {
      let together = 0, alone = 0, activeSet = 0, sum = 0, values = 0;
      for (let s = 0; s < B; s++) {
        const a = x[s * n + set * k] > 0, b = x[s * n + set * k + 1] > 0;
        together += a && b; alone += a !== b; activeSet += a || b;
        for (const v of [x[s * n + set * k], x[s * n + set * k + 1]]) if (v > 0) { sum += v; values++; }
      }
      const q = p[set * k], sd = Math.sqrt((q * (1 - q)) / B);
      if (correlation === "correlated") {
        assert.equal(alone, 0, "a correlated set is active as a whole");
        assert.ok(Math.abs(together / B - q) < 5 * sd, `set ${set}: active ${together / B}, want ${q}`);
      } else {
        assert.equal(together, 0, "an anticorrelated set has one active feature at most");
        assert.ok(Math.abs(activeSet / B - q) < 5 * sd, `set ${set}: active ${activeSet / B}, want ${q}`);
      }
      assert.ok(Math.abs(sum / values - 0.5) < 5 / Math.sqrt(12 * values), `${correlation} set ${set}: mean value ${sum / values}`);
    }
  }
});

test("the one-draw sampler: density p active, uniform values (mean 1/2 when active)", () => {
  const uniform = live.uniforms(3, 1), n = 4, B = 50000;
  const p = [1, 0.3, 0.1, 0.01];
  const x = live.sampleBatch(uniform, Float64Array.from(p), B, new Float64Array(B * n));
  for (let i = 0; i < n; i++) {
    let active = 0, sum = 0;
    for (let s = 0; s < B; s++) if (x[s * n + i] > 0) { active++; sum += x[s * n + i]; }
    const sd = Math.sqrt((p[i] * (1 - p[i])) / B);
    assert.ok(Math.abs(active / B - p[i]) < 5 * sd + 1e-9, `feature ${i}: active ${active / B}, want ${p[i]}`);
    assert.ok(Math.abs(sum / active - 0.5) < 5 / Math.sqrt(12 * active), `feature ${i}: mean ${sum / active}`);
  }
});

test("random streams: the same keys give the same numbers, other keys others", () => {
  const draw = (...keys) => Array.from({ length: 5 }, live.uniforms(...keys));
  assert.deepEqual(draw(0, 1, 2), draw(0, 1, 2));
  assert.notDeepEqual(draw(0, 1, 2), draw(0, 2, 2));
  assert.notDeepEqual(draw(0, 1, 2), draw(1, 1, 2));
});

test("geometry names as toymodels.intro.describe", () => {
  const geometries = [["dedicated", 1, 1, 1], ["triangle", 2 / 3, 2, 3], ["antipodal", 0.5, 1, 2],
    ["pentagon", 0.4, 2, 5], ["not learned", 0, 0, 1]];
  assert.equal(live.describe([1, 1, 0, 0, 0], geometries).text, "2 dedicated, 3 not learned");
  assert.equal(live.describe([0.5, 0.5, 0.5, 0.5, 0], geometries).text, "4 antipodal, 1 not learned");
  assert.equal(live.describe([0.4, 0.41, 0.39, 0.4, 0.4], geometries).text, "5 pentagon");
  assert.equal(live.describe([0.5, 0.5, 0.5, 1, 0], geometries).text, "1 dedicated, 1 not learned, 3 other (D = 0.50, 0.50, 0.50)");
  // Ideal geometries measured by featureDimensionality.
  const pentagon = [0, 1, 2, 3, 4].map((k) => 2 * Math.PI * k / 5);
  const W = [...pentagon.map(Math.cos), ...pentagon.map(Math.sin)];
  assert.ok(Array.from(live.featureDimensionality(W, 2, 5)).every((d) => Math.abs(d - 0.4) < 1e-12));
  assert.deepEqual(Array.from(live.featureDimensionality([1, -1, 0, 0, 0, 0, 0, 0, 1, 0], 2, 5)), [0.5, 0.5, 0, 1, 0]);
});

test("density labels as toymodels.kit.density_label", () => {
  assert.equal(live.densityLabel(1), "1");
  assert.equal(live.densityLabel(0.1), "0.1");
  assert.equal(live.densityLabel(Math.fround(0.1)), "0.1");
  assert.equal(live.densityLabel(0.001), "0.001");
  assert.equal(live.densityLabel(0.652), "0.652");
  assert.equal(live.densityLabel(0.65249), "0.652");
});

test("chapter 10's counts (represented, in superposition) as toymodels.nonlinearities computes them", () => {
  const playground = require("../../toymodels/kit/static/toymodels-playground.js");
  const measures = { representedShare: 0.5, interfering: 0.1, zeroNorm: 1e-8 }; // toymodels.vocabulary
  const seen = new Set();
  for (const c of FIXTURE.cases) {
    const found = playground.counts(Float64Array.from(c.W), c.m, c.n, measures);
    assert.deepEqual(found, c.counts, c.name);
    seen.add(`${found.represented}/${found.superposed}`);
  }
  assert.ok(seen.size >= 3, `the cases should exercise different counts, saw ${[...seen]}`);
  // Two orthogonal features and a small third: 2 represented, none in superposition.
  assert.deepEqual(playground.counts([1, 0, 0.1, 0, 1, 0], 2, 3, measures), { represented: 2, superposed: 0 });
});
