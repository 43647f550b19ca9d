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

function evaluate(c) {
  const gradW = new Float64Array(c.m * c.n), gradB = new Float64Array(c.n);
  const B = c.x.length / c.n;
  const loss = live.lossAndGrads(Float64Array.from(c.W), Float64Array.from(c.b), Float64Array.from(c.x),
    Float64Array.from(c.importance), c.m, B, gradW, gradB);
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
      Float64Array.from(c.importance), c.m, c.x.length / c.n);
    assert.ok(Math.abs(loss - c.loss) <= TOLERANCE * Math.abs(c.loss));
  });

  test(`AdamW steps equal torch.optim.AdamW's: ${c.name}`, () => {
    const W = Float64Array.from(c.W), b = Float64Array.from(c.b);
    const x = Float64Array.from(c.x), importance = Float64Array.from(c.importance);
    const stateW = live.adamState(W.length), stateB = live.adamState(b.length);
    const gradW = new Float64Array(W.length), gradB = new Float64Array(b.length);
    for (let t = 0; t < c.adamw.steps; t++) {
      live.lossAndGrads(W, b, x, importance, c.m, c.x.length / c.n, gradW, gradB);
      live.adamwStep(W, gradW, stateW, c.adamw.lr, c.adamw.weightDecay);
      live.adamwStep(b, gradB, stateB, c.adamw.lr, c.adamw.weightDecay);
    }
    const error = Math.max(maxRelativeError(Array.from(W), c.adamw.W), maxRelativeError(Array.from(b), c.adamw.b));
    assert.ok(error < TOLERANCE, `AdamW differs from torch's by ${error}: bias corrections, or eps inside the sqrt?`);
  });
}

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
