// Service worker: the whole site from Cache Storage, one build at a time (docs/web.md, "Boot and caching").
//
// build_site.sh (scripts/build_hash.py) writes BUILD below: the build's hash and every file's sha256
// and size. A new deploy changes this file, so the browser installs the new worker next to the old:
//   install   fetch every file of the build (integrity-checked against its sha256) into
//             the cache "kvcache-site-<hash>"; any failure fails the install (the old worker stays)
//   activate  delete every other build's cache
//   fetch     a file of the build: from its cache (a missing or wrong-size entry is fetched again,
//             checked); anything else: the network
// A page is served by one worker from one cache, so it never mixes builds. A waiting new worker
// takes over only at a navigation of the last open tab: it activates first, then the navigation is
// redirected to itself, so the new page comes whole from the new build.

const BUILD = { hash: "unbuilt", files: {} }; // replaced by scripts/build_hash.py
const CACHE_PREFIX = "kvcache-site-";
const CACHE_NAME = CACHE_PREFIX + BUILD.hash;
const scopeUrl = new URL(self.registration.scope);
const PRECACHE_PARALLEL = 6;
const TAKE_OVER_TIMEOUT_MS = 5000;
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

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE_NAME) await caches.delete(name);
    }
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "take-over") self.skipWaiting();
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

/** Resolves true once `worker` is the active worker (false after the timeout). */
function activated(worker) {
  return new Promise((resolve) => {
    if (worker.state === "activated") return resolve(true);
    const timer = setTimeout(() => resolve(false), TAKE_OVER_TIMEOUT_MS);
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") {
        clearTimeout(timer);
        resolve(true);
      }
    });
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

/**
 * A newer build is installed and this navigation leaves no other page of the old build open: the
 * new worker takes over, and the navigation is sent to it again. Otherwise this build's page.
 */
async function navigate(event, path) {
  const waiting = self.registration.waiting;
  if (waiting && (await onlyThisTab(event))) {
    waiting.postMessage({ type: "take-over" });
    if (await activated(waiting)) return Response.redirect(event.request.url, 302);
  }
  return serveFile(path);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const path = buildPath(new URL(request.url));
  if (path === null) return; // not a file of this build: the network, as without a service worker
  event.respondWith(request.mode === "navigate" ? navigate(event, path) : serveFile(path));
});
