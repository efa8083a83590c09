// Service worker: the whole site from Cache Storage, one build at a time (docs/web.md, "Boot and caching").
//
// build_site.sh (scripts/build_hash.py) writes BUILD below: the build's hash and every file's sha256
// and size. A new deploy changes this file, so the browser installs the new worker next to the old:
//   install   fetch every file of the build (integrity-checked against its sha256) into
//             the cache "kvcache-site-<hash>"; any failure fails the install (the old worker stays);
//             then compile the cached wasm once (the code cache)
//   activate  delete every other build's cache
//   fetch     a file of the build: from its cache (a missing or wrong-size entry is fetched again,
//             checked); anything else: the network
// A page is served from one build's cache, so it never mixes builds. A newer build's worker waits
// (as service workers do) until no page of the old build is open, then activates. To show the new
// build sooner, a navigation that leaves no other page of the old build open (a reload of the last
// tab) makes the old worker hand over: from then on it serves every request from the newer build's
// cache (its name is kept in Cache Storage, so a restarted worker still does), until the newer
// worker activates.

const BUILD = { hash: "unbuilt", files: {} }; // replaced by scripts/build_hash.py
const CACHE_PREFIX = "kvcache-site-";
const CACHE_NAME = CACHE_PREFIX + BUILD.hash;
const scopeUrl = new URL(self.registration.scope);
const PRECACHE_PARALLEL = 6;
const CACHE_NAME_TIMEOUT_MS = 10_000; // the waiting worker may have to start first, on a busy machine
const HANDOVER_CACHE = "kvcache-handover"; // one entry: the newer build's cache name, once handed over
let openedCache = null;
const buildCache = () => (openedCache ??= caches.open(CACHE_NAME));

/** Subresource-integrity form of a hex sha256 ("sha256-<base64>"). */
function integrityOf(hex) {
  const bytes = (String(hex).match(/[0-9a-f]{2}/gi) || []).map((pair) => parseInt(pair, 16));
  return "sha256-" + btoa(String.fromCharCode(...bytes));
}

/** The build's path for a URL ("" and "dir/" are their index.html), or null when it is not a file of the build. */
function buildPath(url) {
  if (url.origin !== scopeUrl.origin || !url.pathname.startsWith(scopeUrl.pathname)) return null;
  let path;
  try {
    path = decodeURIComponent(url.pathname.slice(scopeUrl.pathname.length));
  } catch {
    return null;
  }
  if (path === "" || path.endsWith("/")) path += "index.html";
  return Object.hasOwn(BUILD.files, path) ? path : null;
}

const cacheKey = (path) => new URL(path, scopeUrl).href;

async function fetchChecked(path) {
  const [sha256] = BUILD.files[path];
  const response = await fetch(new Request(cacheKey(path), { cache: "no-cache", integrity: integrityOf(sha256) }));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

async function precache() {
  const cache = await buildCache();
  const queue = Object.keys(BUILD.files);
  const next = async () => {
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      await cache.put(cacheKey(path), await fetchChecked(path));
    }
  };
  await Promise.all(Array.from({ length: PRECACHE_PARALLEL }, next));
}

/**
 * The runtime compiled once from its cached response, so that the browser's code cache already
 * holds it for the first page served from here (measured: the first warm reload then costs what
 * later ones do). Where the policy forbids compiling here, nothing is lost but that.
 */
async function warmCodeCache() {
  const response = await (await buildCache()).match(cacheKey("pyodide/pyodide.asm.wasm"));
  if (response) await WebAssembly.compileStreaming(response);
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => warmCodeCache().catch(() => {})));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    await caches.delete(HANDOVER_CACHE);
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME) await caches.delete(name);
    }
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "cache-name") event.ports[0]?.postMessage({ cache: CACHE_NAME });
});

/** The cached file when it is whole (its size is the build's); else fetched again, checked, and cached. */
async function serveFile(path) {
  const cache = await buildCache();
  const cached = await cache.match(cacheKey(path));
  if (cached) {
    const [, size] = BUILD.files[path];
    if ((await cached.clone().blob()).size === size) return cached;
    console.info(`[service worker] the cached ${path} is damaged; fetching it again`);
  }
  const response = await fetchChecked(path);
  await cache.put(cacheKey(path), response.clone());
  return response;
}

/** The cache name of a waiting worker of this site (null when it does not answer in time). */
function cacheNameOf(worker) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), CACHE_NAME_TIMEOUT_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(typeof event.data?.cache === "string" && event.data.cache.startsWith(CACHE_PREFIX) ? event.data.cache : null);
    };
    worker.postMessage({ type: "cache-name" }, [channel.port2]);
  });
}

/**
 * No page of this build stays open after this navigation: no window but the one it replaces (where
 * the browser names it, FetchEvent.replacesClientId), else at most one window (a reload).
 */
async function onlyThisTab(event) {
  const windows = await self.clients.matchAll({ type: "window" });
  if (event.replacesClientId) return windows.every((client) => client.id === event.replacesClientId);
  return windows.length <= 1;
}

const handoverKey = () => new URL("kvcache-handover", scopeUrl).href;

/** The newer build's cache this worker handed over to (kept across restarts of this worker), or null. */
async function readHandover() {
  const kept = await (await caches.open(HANDOVER_CACHE)).match(handoverKey());
  const name = kept ? await kept.text() : "";
  return name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME && (await caches.has(name)) ? caches.open(name) : null;
}

let handedOver = null; // Promise<Cache | null>, read once per start of this worker

async function handOver(name) {
  await (await caches.open(HANDOVER_CACHE)).put(handoverKey(), new Response(name));
  handedOver = caches.open(name);
}

/** From the newer build's cache (checked by its worker's install; "dir/" is its index.html), else the network. */
async function serveHandedOver(cache, request) {
  const url = new URL(request.url);
  if (url.pathname.endsWith("/")) url.pathname += "index.html";
  return (await cache.match(url.href, { ignoreSearch: true })) || fetch(request);
}

/**
 * A newer build is installed and this navigation leaves no other page of this build open: hand
 * over to it (this navigation and all that follow come from its cache). Otherwise this build's page.
 */
async function navigate(event, path) {
  const waiting = self.registration.waiting;
  if (waiting && (await onlyThisTab(event))) {
    const name = await cacheNameOf(waiting);
    if (name && name !== CACHE_NAME && (await caches.has(name))) {
      await handOver(name);
      return serveHandedOver(await handedOver, new Request(cacheKey(path)));
    }
  }
  return serveFile(path);
}

async function respond(event) {
  const cache = await (handedOver ??= readHandover().catch(() => null));
  if (cache) return serveHandedOver(cache, event.request);
  const path = buildPath(new URL(event.request.url));
  if (path === null) return fetch(event.request); // not a file of this build
  return event.request.mode === "navigate" ? navigate(event, path) : serveFile(path);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== scopeUrl.origin) return;
  event.respondWith(respond(event));
});
