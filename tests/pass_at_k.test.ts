import assert from "node:assert/strict";
import { meanPassAtK, passAtK, powersOfTwoUpTo } from "../src/method/pass_at_k.ts";

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

Deno.test("pass@k matches hand-derived values", () => {
  // n=4, c=1, k=2: all-wrong pairs C(3,2)=3 of C(4,2)=6, so 1 - 3/6 = 0.5.
  assert.equal(passAtK(4, 1, 2), 0.5);
  // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7.
  assert.ok(Math.abs(passAtK(5, 2, 2) - 0.7) < 1e-12);
  assert.equal(passAtK(10, 0, 10), 0);
  assert.equal(passAtK(10, 3, 8), 1); // fewer than 8 wrong samples exist
});

Deno.test("pass@k agrees with the binomial formula and is monotone in k and c", () => {
  for (let n = 1; n <= 20; n++) {
    for (let c = 0; c <= n; c++) {
      for (let k = 1; k <= n; k++) {
        const exact = n - c < k ? 1 : 1 - binomial(n - c, k) / binomial(n, k);
        assert.ok(Math.abs(passAtK(n, c, k) - exact) < 1e-9, `n=${n} c=${c} k=${k}`);
        if (k > 1) assert.ok(passAtK(n, c, k) >= passAtK(n, c, k - 1) - 1e-12);
        if (c > 0) assert.ok(passAtK(n, c, k) >= passAtK(n, c - 1, k) - 1e-12);
      }
    }
  }
  assert.ok(Math.abs(passAtK(64, 16, 1) - 0.25) < 1e-12); // pass@1 is the plain success rate
});

Deno.test("k grid and averaging", () => {
  assert.deepEqual(powersOfTwoUpTo(64), [1, 2, 4, 8, 16, 32, 64]);
  assert.deepEqual(powersOfTwoUpTo(48), [1, 2, 4, 8, 16, 32, 48]);
  assert.deepEqual(meanPassAtK(4, [0, 4], [1, 4]), [0.5, 0.5]);
  assert.throws(() => passAtK(4, 5, 1), /c = 5/);
  assert.throws(() => passAtK(4, 1, 0), /k = 0/);
  assert.throws(() => meanPassAtK(4, [], [1]), /zero problems/);
});
