// A real ComfyUI client (npm @stable-canvas/comfyui-client) against our port-8188 API, without the WebSocket:
// enqueue_polling() POSTs /prompt, polls /queue until the prompt left it, reads its outputs from /history and turns
// them into /view URLs; this script then fetches the image bytes and checks they are PNGs of the size the
// prompt's EmptyLatentImage asks for. One summary line on success; a message and exit code 1 on any failure.
//
// usage: node queue_poll_fetch.mjs BASE_URL PROMPT_JSON [STEPS]
//   BASE_URL     e.g. http://127.0.0.1:8188
//   PROMPT_JSON  a /prompt body ({"prompt": {...}}) or a bare API-format graph (tests/fixtures/graphs/*/prompt.json)
//   STEPS        sampler steps to run (default 2: the point is the protocol, not the picture)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Client } from "@stable-canvas/comfyui-client";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function fail(message) {
  console.error(`queue_poll_fetch: FAIL: ${message}`);
  process.exit(1);
}

// Node 20 has no WebSocket; the client only warns without one. This stand-in makes any use of it an error.
class NoWebSocket {
  constructor() {
    throw new Error("this test polls; the client must not open a WebSocket");
  }
}

function nodesOf(prompt, classType) {
  return Object.entries(prompt).filter(([, node]) => node && node.class_type === classType);
}

// Width, height and image count the graph will produce (one EmptyLatentImage, as in the txt2img fixtures).
function expectedImages(prompt) {
  const latents = nodesOf(prompt, "EmptyLatentImage");
  if (latents.length !== 1) fail(`expected one EmptyLatentImage in the prompt, found ${latents.length}`);
  const { width, height, batch_size: batch = 1 } = latents[0][1].inputs;
  return { width, height, count: batch };
}

// Width and height from the IHDR chunk, which a valid PNG has first, right after the signature.
function pngSize(bytes) {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  if (bytes.toString("latin1", 12, 16) !== "IHDR") return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// The package's "exports" hide its package.json from import/require; read it next to the resolved entry point.
function clientVersion() {
  const entry = createRequire(import.meta.url).resolve("@stable-canvas/comfyui-client");
  return JSON.parse(readFileSync(new URL("../package.json", pathToFileURL(entry)), "utf8")).version;
}

async function main() {
  const [baseUrl, promptFile, stepsArg = "2"] = process.argv.slice(2);
  if (!baseUrl || !promptFile) fail("usage: node queue_poll_fetch.mjs BASE_URL PROMPT_JSON [STEPS]");
  const base = new URL(baseUrl);
  const doc = JSON.parse(readFileSync(promptFile, "utf8"));
  const prompt = doc.prompt ?? doc;
  const steps = Number(stepsArg);

  for (const [, node] of nodesOf(prompt, "KSampler")) node.inputs.steps = steps;
  // A fresh prefix per run: the file names in /history are then this run's own.
  const prefix = `comfy_client_${process.pid}`;
  for (const node of Object.values(prompt))
    if (node.inputs && "filename_prefix" in node.inputs) node.inputs.filename_prefix = prefix;
  const expected = expectedImages(prompt);

  const client = new Client({
    api_host: base.host,
    api_base: base.pathname.replace(/\/+$/, ""),
    ssl: base.protocol === "https:",
    clientId: "vkdream-e2e",
    WebSocket: NoWebSocket,
  });

  // /object_info, as the client reads it: the checkpoint the prompt names must be offered.
  const checkpoints = await client.getSDModels();
  for (const [id, node] of nodesOf(prompt, "CheckpointLoaderSimple"))
    if (!checkpoints.includes(node.inputs.ckpt_name))
      fail(`node ${id} loads ${node.inputs.ckpt_name}, but /object_info offers ${JSON.stringify(checkpoints)}`);

  const started = Date.now();
  const result = await client.enqueue_polling(prompt, { polling_ms: 200, timeout_ms: 40000 });
  const elapsed = Date.now() - started;
  if (!result.prompt_id) fail(`no prompt_id in the result: ${JSON.stringify(result)}`);
  if (result.images.length !== expected.count)
    fail(`expected ${expected.count} image(s), the client resolved ${JSON.stringify(result.images)}`);

  const sizes = [];
  for (const image of result.images) {
    if (image.type !== "url") fail(`expected a /view URL, got ${JSON.stringify(image)}`);
    const url = new URL(image.data);
    if (!url.pathname.endsWith("/view") || !url.searchParams.get("filename").startsWith(prefix))
      fail(`unexpected image URL ${image.data}`);
    const res = await fetch(url);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) fail(`GET ${url} answered ${res.status}: ${bytes.toString("utf8", 0, 300)}`);
    if (res.headers.get("content-type") !== "image/png")
      fail(`GET ${url} has Content-Type ${res.headers.get("content-type")}, not image/png`);
    const size = pngSize(bytes);
    if (!size) fail(`GET ${url} is not a PNG (first bytes ${bytes.subarray(0, 16).toString("hex")})`);
    if (size.width !== expected.width || size.height !== expected.height)
      fail(`${url.searchParams.get("filename")} is ${size.width}x${size.height}, expected ${expected.width}x${expected.height}`);
    sizes.push(`${url.searchParams.get("filename")} ${size.width}x${size.height} ${bytes.length} B`);
  }

  const version = clientVersion();
  console.log(`queue_poll_fetch: OK: comfyui-client ${version} ran prompt ${result.prompt_id} (${steps} steps) in ` +
              `${elapsed} ms by polling; fetched ${sizes.join(", ")} PNG from /view`);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
