/**
 * A kit process for tests/lm_vllm.test.ts: starts a managed vLLM server on the model directory
 * given as the first argument, prints {"url", "pgid", "supervisor"} on stdout, stops the server
 * cleanly when its stdin closes, then exits. Killing it with SIGKILL instead is the test of
 * "the kit dies and leaves no server behind".
 */
import { VllmServer } from "../../src/lm/vllm_server.ts";

const server = await VllmServer.start({
  modelDir: Deno.args[0],
  maxModelLen: 1024,
  dtype: "float32",
  env: { VLLM_CPU_KVCACHE_SPACE: "2" },
});
console.log(JSON.stringify({ url: server.url, pgid: server.pgid, supervisor: server.pid }));
for await (const _ of Deno.stdin.readable) {
  // Wait for EOF.
}
await server.stop();
console.log(JSON.stringify({ stopped: true }));
