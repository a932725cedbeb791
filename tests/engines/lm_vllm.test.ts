/**
 * The vllm backend against a real vLLM server (the CPU build) serving SmolLM2-135M-Instruct in
 * float32, checked against the torch backend (transformers in the real trainer process) on the
 * same directory. One server, started by a separate kit process in managed mode, serves most
 * steps; the last steps kill that kit abruptly mid-stage and resume the stage on a second
 * managed server, so both ways a server ends (a clean stop and the kit's death) are checked for
 * leftover processes. Faults the server cannot be asked to make (429, 503, a refused connection
 * mid-request) come from a small forwarding proxy in front of the real server.
 *
 * Runs in `deno task test-engines` (see the README); skipped with one line when the vLLM
 * environment or the model is absent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import {
  TorchLanguageModel,
  VllmClient,
  VllmLanguageModel,
  VllmServerError,
  VllmStartError,
} from "../../src/lm/mod.ts";
import { VllmServer } from "../../src/lm/vllm_server.ts";
import { DEFAULT_RUN_CONFIG, type RunConfig } from "../../src/run/config.ts";
import { PipelineContext } from "../../src/pipeline/context.ts";
import { runPaths } from "../../src/run/paths.ts";
import { SilentProgress } from "../../src/pipeline/progress.ts";
import { sampleTrajectories } from "../../src/pipeline/stages/sample.ts";
import { gsm8kTask } from "../../src/tasks/gsm8k_task.ts";
import { GSM8K_PROMPT, TaskPrompts } from "../../src/tasks/prompts.ts";
import type { TaskProblem } from "../../src/tasks/task.ts";
import { Trainer } from "../../src/trainer/client.ts";
import { smollm2Dir } from "../fixtures/real_model.ts";
import { alive, processesInGroup, vllmTestsUnavailable } from "./vllm_fixture.ts";

const unavailable = vllmTestsUnavailable();
if (unavailable) console.error(`lm_vllm tests skipped: ${unavailable}`);

/** A forwarding proxy to `target` that can answer the next requests with an error status. */
function faultProxy(target: string) {
  const faults: number[] = [];
  let forwarded = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const status = faults.shift();
    if (status !== undefined) {
      return new Response(JSON.stringify({ error: { message: `injected ${status}` } }), { status });
    }
    forwarded++;
    const url = new URL(req.url);
    const r = await fetch(`${target}${url.pathname}`, {
      method: req.method,
      headers: req.headers,
      body: req.method === "GET" ? undefined : await req.arrayBuffer(),
    });
    return new Response(await r.arrayBuffer(), { status: r.status, headers: r.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    /** Statuses for the next requests, in order. */
    fail: (...statuses: number[]) => faults.push(...statuses),
    get forwarded() {
      return forwarded;
    },
    close: () => server.shutdown(),
  };
}

/** Waits until `pred` holds, polling; false after `ms`. */
async function eventually(pred: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return pred();
}

/** A copy of the model directory's config and tokenizer files (no weights: opening needs none). */
async function configCopy(dir: string, into: string, edit?: (tokenizer: string) => string) {
  await Deno.mkdir(into, { recursive: true });
  for (const f of ["config.json", "generation_config.json", "tokenizer_config.json"]) {
    if (existsSync(join(dir, f))) await Deno.copyFile(join(dir, f), join(into, f));
  }
  const tok = await Deno.readTextFile(join(dir, "tokenizer.json"));
  await Deno.writeTextFile(join(into, "tokenizer.json"), edit ? edit(tok) : tok);
  return into;
}

Deno.test({
  name: "vllm backend on a real server: seeds, masks, prefixes, torch agreement, faults, resume",
  ignore: unavailable !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const trainer = await Trainer.start();
    const dir = await smollm2Dir(trainer);
    const work = await Deno.makeTempDir({ prefix: "lm-vllm-" });
    // Kit A: a separate process that starts a managed server and prints where it is.
    const kitA = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(import.meta.dirname!, "vllm_server_child.ts"), dir],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = kitA.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const firstLine = async () => {
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`kit A ended before printing its server: ${text}`);
        text += value;
      }
      return JSON.parse(text.split("\n")[0]);
    };
    const started = performance.now();
    const a = await firstLine() as { url: string; pgid: number; supervisor: number };
    console.error(`vLLM server A up in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const torch = await TorchLanguageModel.load(dir, { trainer, device: "cpu", batchSize: 8 });
    const lm = await VllmLanguageModel.open(dir, { urls: [a.url], concurrency: 8 });
    const text = (s: string) => [1, ...lm.tokenize(s)];
    const prompts = [
      "Question: Tom has 3 apples and buys 4 more. How many apples does he have?\nAnswer:",
      "Question: A train travels 60 km in 1 hour. How far does it go in 3 hours?\nAnswer:",
      "The capital of France is",
      "1, 2, 3, 4, 5,",
    ].map(text);
    try {
      await t.step(
        "the same seed gives the same tokens on a rerun and at any concurrency",
        async () => {
          const opts = { prompts, n: 4, temperature: 1, topP: 0.95, maxNewTokens: 24, seed: 11 };
          const first = await lm.sample(opts);
          const again = await lm.sample(opts);
          const serial =
            await (await VllmLanguageModel.open(dir, { urls: [a.url], concurrency: 1 }))
              .sample(opts);
          assert.deepEqual(again, first);
          assert.deepEqual(serial, first);
          const other = await lm.sample({ ...opts, seed: 12 });
          assert.notDeepEqual(other.map((s) => s.tokens), first.map((s) => s.tokens));
          assert.deepEqual(
            first.map((s) => [s.promptIndex, s.sampleIndex]),
            [0, 1, 2, 3].flatMap((p) => [0, 1, 2, 3].map((j) => [p, j])),
          );
        },
      );

      await t.step(
        "vLLM seeds sample i of an n-request with seed + i; the kit spaces seeds by n",
        async () => {
          // The fact the spacing relies on, on this server build.
          const client = new VllmClient([a.url]);
          const body = (seed: number, n: number) => ({
            model: lm.dir,
            prompt: prompts[2],
            n,
            seed,
            max_tokens: 12,
            temperature: 1,
            top_p: 1,
            top_k: 0,
            return_token_ids: true,
          });
          type R = { choices: { index: number; token_ids: number[] }[] };
          const together = (await client.post("/v1/completions", body(500, 3)) as R).choices
            .sort((x, y) => x.index - y.index).map((c) => c.token_ids);
          const apart = [];
          for (let i = 0; i < 3; i++) {
            apart.push(
              ((await client.post("/v1/completions", body(500 + i, 1))) as R).choices[0].token_ids,
            );
          }
          assert.deepEqual(together, apart);
          // Two identical prompts in one call must not repeat each other's samples (with seed + p
          // instead of seed + p * n, prompt 1's sample 0 would be prompt 0's sample 1).
          const twins = await lm.sample({
            prompts: [prompts[2], prompts[2]],
            n: 3,
            temperature: 1,
            maxNewTokens: 12,
            seed: 5,
          });
          const seqs = twins.map((s) => JSON.stringify(s.tokens));
          assert.equal(new Set(seqs).size, seqs.length, "six samples, six different streams");
        },
      );

      await t.step(
        "a masked first token never appears first, is masked only there, keeps the temperature",
        async () => {
          const prompt = prompts[3]; // "1, 2, 3, 4, 5," continues " 6, 7, ...": " " and "," recur
          const free = await lm.sample({
            prompts: [prompt],
            n: 32,
            temperature: 1,
            maxNewTokens: 8,
            seed: 1,
          });
          const counts = new Map<number, number>();
          for (const s of free) counts.set(s.tokens[0], (counts.get(s.tokens[0]) ?? 0) + 1);
          const top = [...counts].sort((x, y) => y[1] - x[1])[0][0];
          assert.ok(
            counts.get(top)! >= 8,
            `the unmasked first token ${top} is common (${counts.get(top)}/32)`,
          );
          const masked = await lm.sample({
            prompts: [{ tokens: prompt, maskFirst: [top] }],
            n: 32,
            temperature: 1,
            maxNewTokens: 8,
            seed: 1,
          });
          assert.equal(masked.filter((s) => s.tokens[0] === top).length, 0);
          assert.ok(
            masked.some((s) => s.tokens.slice(1).includes(top)),
            "later positions may use it",
          );
          // Greedy with the mask is the best other token: the argmax of the torch backend's
          // distribution with that token removed (temperature 0 is honoured through both requests).
          const [row] = await torch.nextTokenDistributions([{
            tokens: prompt,
            positions: [prompt.length - 1],
          }]);
          let best = -1;
          for (let v = 0; v < row.length; v++) {
            if (v !== top && (best < 0 || row[v] > row[best])) best = v;
          }
          const [greedy] = await lm.sample({
            prompts: [{ tokens: prompt, maskFirst: [top] }],
            temperature: 0,
            maxNewTokens: 6,
            seed: 0,
          });
          assert.equal(greedy.tokens[0], best);
          // Its log-probs are the model's own (no mask, no temperature), as on the other backends.
          const [lp] = await torch.scoreContinuations([{ prompt, continuation: greedy.tokens }]);
          greedy.logprobs.forEach((x, k) => assert.ok(Math.abs(x - lp[k]) < 1e-4, `token ${k}`));
        },
      );

      await t.step(
        "a forced prefix is kept token for token, even where text would re-tokenise",
        async () => {
          const prompt = prompts[0];
          // " apples" split into two pieces the tokenizer would never produce from text.
          const odd = [...lm.tokenize(" Tom has 7 ap"), ...lm.tokenize("ples")];
          assert.notDeepEqual(odd, lm.tokenize(" Tom has 7 apples"));
          const client = new VllmClient([a.url]);
          const r = await client.post("/v1/completions", {
            model: lm.dir,
            prompt: [...prompt, ...odd],
            max_tokens: 1,
            temperature: 0,
            return_token_ids: true,
          }) as { choices: { prompt_token_ids: number[] }[] };
          assert.deepEqual(r.choices[0].prompt_token_ids, [...prompt, ...odd]);
          const opts = {
            prompts: [{ tokens: prompt, forcedPrefix: odd }],
            temperature: 0,
            maxNewTokens: 16,
            seed: 0,
          };
          assert.deepEqual((await lm.sample(opts))[0].tokens, (await torch.sample(opts))[0].tokens);
        },
      );

      await t.step(
        "greedy output equals the torch backend's, stop strings and reasons included",
        async () => {
          const opts = {
            prompts,
            temperature: 0,
            maxNewTokens: 32,
            seed: 0,
            stopStrings: ["\n"],
          };
          const [v, tt] = [await lm.sample(opts), await torch.sample(opts)];
          assert.deepEqual(
            v.map((s) => [s.tokens, s.stopReason]),
            tt.map((s) => [s.tokens, s.stopReason]),
          );
          assert.ok(
            v.some((s) => s.stopReason === "stop_string"),
            "some sample ends at the stop string",
          );
          const eos = await lm.sample({ ...opts, maxNewTokens: 4, stopStrings: [] });
          assert.ok(eos.every((s) => s.tokens.length <= 4));
        },
      );

      await t.step("server log-probs agree with the trainer's within 1e-4", async () => {
        const samples = await lm.sample({
          prompts,
          n: 2,
          temperature: 1,
          maxNewTokens: 24,
          seed: 3,
        });
        const items = samples.map((s) => ({
          prompt: prompts[s.promptIndex],
          continuation: s.tokens,
        }));
        const [ours, theirs] = [
          await lm.scoreContinuations(items),
          await torch.scoreContinuations(items),
        ];
        let worst = 0;
        items.forEach((_, i) => {
          ours[i].forEach((x, k) => {
            worst = Math.max(
              worst,
              Math.abs(x - theirs[i][k]),
              Math.abs(samples[i].logprobs[k] - theirs[i][k]),
            );
          });
        });
        assert.ok(worst < 1e-4, `max |server - trainer| = ${worst}`);
      });

      await t.step(
        "full distributions: delegated when a delegate is given, else refused by name",
        async () => {
          await assert.rejects(
            () => lm.nextTokenDistributions([{ tokens: prompts[2], positions: [1] }]),
            /Cannot compute full next-token distributions on the vllm backend/,
          );
          const delegating = await VllmLanguageModel.open(dir, {
            urls: [a.url],
            distributions: () => Promise.resolve(torch),
          });
          const [d] = await delegating.nextTokenDistributions([{
            tokens: prompts[2],
            positions: [1],
          }]);
          assert.equal(d.length, lm.facts.vocabSize);
        },
      );

      await t.step(
        "a server answering with another model or another tokenizer is refused by name",
        async () => {
          const elsewhere = await configCopy(dir, join(work, "another-model"));
          await assert.rejects(
            () => VllmLanguageModel.open(elsewhere, { urls: [a.url] }),
            (e: Error) => {
              assert.ok(e instanceof VllmServerError);
              assert.match(e.message, new RegExp(`it serves '${lm.dir}', not '${elsewhere}'`));
              assert.equal(e.message.split("\n").length, 1);
              return true;
            },
          );
          // Same name, but a tokenizer whose digit "4" has another id: the probe text differs.
          const retok = await configCopy(dir, join(work, "other-tokenizer"), (json) => {
            const tok = JSON.parse(json);
            const vocab = tok.model.vocab as Record<string, number>;
            [vocab["4"], vocab["5"]] = [vocab["5"], vocab["4"]];
            return JSON.stringify(tok);
          });
          await assert.rejects(
            () => VllmLanguageModel.open(retok, { urls: [a.url], servedModelName: lm.dir }),
            /its tokenizer encodes the probe text differently/,
          );
        },
      );

      await t.step(
        "data parallelism, retries on 429/503, and one line for a server that is down",
        async () => {
          const proxy = faultProxy(a.url);
          try {
            const opts = { prompts, n: 2, temperature: 1, maxNewTokens: 12, seed: 21 };
            const direct = await lm.sample(opts);
            const both = await VllmLanguageModel.open(dir, {
              urls: [a.url, proxy.url],
              concurrency: 2,
              backoffMs: 50,
            });
            const before = proxy.forwarded;
            proxy.fail(429, 503);
            assert.deepEqual(await both.sample(opts), direct);
            assert.ok(proxy.forwarded - before >= 1, "the second server took part");
            const dead = await Deno.makeTempDir();
            const port = Deno.listen({ hostname: "127.0.0.1", port: 0 });
            const closedUrl = `http://127.0.0.1:${(port.addr as Deno.NetAddr).port}`;
            port.close();
            await Deno.remove(dead);
            await assert.rejects(
              () => VllmLanguageModel.open(dir, { urls: [closedUrl], attempts: 3, backoffMs: 50 }),
              (e: Error) => {
                assert.ok(e instanceof VllmServerError);
                assert.match(
                  e.message,
                  new RegExp(
                    `Cannot reach vLLM server ${closedUrl}: connection refused \\(3 tries`,
                  ),
                );
                assert.equal(e.message.split("\n").length, 1);
                return true;
              },
            );
          } finally {
            await proxy.close();
          }
        },
      );

      await t.step("a server that fails to start is one line, and leaves no process", async () => {
        const broken = join(work, "not-a-model");
        await Deno.mkdir(broken);
        await Deno.writeTextFile(
          join(broken, "config.json"),
          '{"model_type": "no-such-architecture"}',
        );
        let pgid = 0;
        await assert.rejects(
          () => VllmServer.start({ modelDir: broken, dtype: "float32", startTimeoutS: 300 }),
          (e: Error) => {
            assert.ok(e instanceof VllmStartError);
            assert.match(
              e.message,
              /Cannot start a vLLM server on .*not-a-model: it exited with code/,
            );
            assert.equal(e.message.split("\n").length, 1);
            pgid = e.pgid ?? 0;
            return true;
          },
        );
        assert.ok(pgid > 0);
        assert.deepEqual(processesInGroup(pgid), []);
      });

      await t.step(
        "the server dies mid-stage: one line naming it; the rerun resumes from its last chunk",
        async () => {
          const problems: TaskProblem[] = Array.from({ length: 51 }, (_, i) => ({
            id: `p${i}`,
            question: `Sam has ${i + 2} pens and buys ${
              i % 7 + 1
            } more. How many pens does Sam have?`,
            answer: i + 2 + (i % 7 + 1),
          }));
          const config: RunConfig = structuredClone(DEFAULT_RUN_CONFIG);
          config.sampling = { ...config.sampling, topP: 0.95, maxNewTokens: 12 };
          const task = gsm8kTask(
            await TaskPrompts.build({
              style: "fewshot",
              format: GSM8K_PROMPT,
              examples: [{
                question: "Ann has 2 cats and gets 3 more. How many cats?",
                solution: "2 + 3 = 5. The answer is 5.",
              }],
              problems,
              modelDir: dir,
              trainer: () => Promise.reject(new Error("few-shot prompts need no trainer")),
            }),
          );
          const ctx = new PipelineContext(
            runPaths(join(work, "run")),
            config,
            new SilentProgress(),
            task,
            {
              train: problems,
              validation: [],
              test: [],
              byId: new Map(problems.map((p) => [p.id, p])),
            },
            { dir, hash: "smollm2" },
          );
          const stage = (model: VllmLanguageModel, workDir: string) =>
            sampleTrajectories(ctx, model, problems, {
              split: "train",
              n: 2,
              temperature: 1,
              seed: 4,
              workDir,
              label: "sample",
            });
          const reference = await stage(lm, join(work, "reference"));
          const resumed = join(work, "resumed");
          await Deno.mkdir(resumed);
          const chunk = (i: number) =>
            join(resumed, `train-samples-${String(i).padStart(5, "0")}.json`);
          // Kill kit A, the owner of server A, once the first chunk is on disk: its supervisor
          // must take the server's whole process group down.
          const killer = (async () => {
            await eventually(() => existsSync(chunk(0)), 600_000);
            kitA.kill("SIGKILL");
          })();
          await assert.rejects(() => stage(lm, resumed), (e: Error) => {
            assert.ok(e instanceof VllmServerError, String(e));
            assert.match(e.message, new RegExp(`Cannot reach vLLM server ${a.url}`));
            assert.equal(e.message.split("\n").length, 1);
            return true;
          });
          await killer;
          assert.ok(
            await eventually(
              () => processesInGroup(a.pgid).length === 0 && !alive(a.supervisor),
              30_000,
            ),
            `server A's processes are gone (left: ${processesInGroup(a.pgid)})`,
          );
          assert.ok(existsSync(chunk(0)) && !existsSync(chunk(2)));
          const kept = (await Deno.stat(chunk(0))).mtime?.getTime();
          // Server B: started by this process (managed mode) on the same directory.
          const b = await VllmLanguageModel.open(dir, {
            server: { maxModelLen: 1024, dtype: "float32", env: { VLLM_CPU_KVCACHE_SPACE: "2" } },
          });
          try {
            assert.deepEqual(await stage(b, resumed), reference);
            const again = (await Deno.stat(chunk(0))).mtime?.getTime();
            assert.equal(again, kept, "the finished chunk was read back, not redone");
          } finally {
            const server = b.server!;
            await b.close();
            assert.deepEqual(processesInGroup(server.pgid), [], "server B's processes are gone");
            assert.ok(!alive(server.pid));
          }
        },
      );
    } finally {
      await torch.close();
      await trainer.close();
      await lm.close();
      await kitA.stdin.close().catch(() => {});
      await kitA.status;
      await reader.cancel().catch(() => {});
      await Deno.remove(work, { recursive: true });
    }
  },
});
