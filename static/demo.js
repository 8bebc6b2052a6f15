// The recsys real-time demo: native WebSocket /ws, no build step, no libraries.
"use strict";

const $ = (id) => document.getElementById(id);
const titles = new Map();
let socket = null;
let retry = 250;
let pushes = 0;
// The shown list's key in recsys.exposures: events on its items carry it
// (attribution), and "More" asks for the page after it.
let recommId = null;
// "live": the lists pushed over the socket; else a name of GET /strategies
// (or of another source below), asked over HTTP and refreshed at each push.
let mode = "live";
const choices = new Map();  // option value -> the query string parameters it sets

// Where the picker's options come from: each source is a GET endpoint and how one
// of its entries becomes GET /recommend parameters. Saved scenarios can join as
// one more entry, e.g. { path: "/scenarios", key: "scenarios", group: "Scenarios",
// params: (s) => ({ scenario: s.name }), label: (s) => s.name }.
const SOURCES = [
  {
    path: "/strategies", key: "strategies", group: "Strategies",
    params: (s) => (s.method ? { case: s.case, method: s.method } : { case: s.case }),
    label: (s) => s.name.replace(/_/g, " "),
  },
  {
    path: "/scenarios", key: "scenarios", group: "Scenarios",
    params: (s) => ({ scenario: s.name }),
    label: (s) => s.name + (s.description ? ` (${s.description})` : ""),
  },
];

function userId() { return $("user").value.trim() || "user-1"; }

// With authentication on (REC_API_KEYS), calls carry the key typed in the header;
// browsers cannot set headers on a WebSocket, so /ws takes it as ?api_key=.
function apiKey() { return $("key").value.trim(); }

function withKey(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, authorization: `Bearer ${key}` } : headers;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: withKey(options.headers) });
  if (response.status === 401 || response.status === 403) {
    $("last-action").textContent = "server: " + (await response.json()).error.message;
  }
  return response;
}

function setState(state) {
  const badge = $("state");
  badge.dataset.state = state;
  badge.className = "state " + state;
  badge.textContent = state;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const key = apiKey();
  const query = key ? `?api_key=${encodeURIComponent(key)}` : "";
  socket = new WebSocket(`${scheme}://${location.host}/ws${query}`);
  socket.keyUsed = key;
  setState("connecting");
  socket.onopen = () => { retry = 250; register(); };
  socket.onmessage = (event) => handle(JSON.parse(event.data));
  socket.onclose = () => {
    setState("disconnected");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);  // back off while the server is away
  };
}

async function register() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  const data = { user_id: userId() };
  if (apiKey()) {
    // A per-user token, as a real page would get it from its own backend after login.
    const response = await api(`/users/${encodeURIComponent(data.user_id)}/token`, { method: "POST" });
    if (response.ok) data.token = (await response.json()).token;
  }
  socket.send(JSON.stringify({ event: "register_user", data }));
}

function handle(message) {
  if (message.event === "registered") {
    setState("connected");
    $("panel-user").textContent = message.data.user_id;
  } else if (message.event === "realtime_recommendation") {
    countPush();
    if (mode === "live") {
      setList(message.data.recomm_id, "behavior_based (pushed)");
      show(message.data.recommendations);
    } else {
      fetchList();  // the user's data changed: ask the chosen strategy again
    }
  } else if (message.event === "error") {
    $("last-action").textContent = "server: " + message.data.message;
  }
}

function setList(id, what) {
  recommId = id;
  $("recomm-id").textContent = id ? id.slice(0, 8) : "none";
  $("list-case").textContent = what;
  $("more").disabled = !id;
}

function describe(body) {
  return body.case + (body.method ? `:${body.method}` : "") + (body.page > 1 ? ` · page ${body.page}` : "");
}

async function fetchList() {
  const query = new URLSearchParams({ user_id: userId(), k: "10", ...choices.get(mode) });
  const response = await api(`/recommend?${query}`);
  const body = await response.json();
  if (!response.ok) {
    $("last-action").textContent = `error: ${body.error.message}`;
    return;
  }
  setList(body.recomm_id, describe(body));
  show(body.recommendations);
}

async function more() {
  if (!recommId) return;
  const response = await api(`/recommend/next?recomm_id=${encodeURIComponent(recommId)}&k=10`);
  const body = await response.json();
  if (!response.ok) {
    $("last-action").textContent = `more: ${body.error.message}`;
    return;
  }
  setList(body.recomm_id, describe(body));
  show(body.recommendations, true);
}

async function loadChoices() {
  for (const source of SOURCES) {
    const response = await api(source.path);
    if (!response.ok) continue;
    const entries = (await response.json())[source.key] || [];
    const group = document.createElement("optgroup");
    group.label = source.group;
    for (const entry of entries) {
      const value = `${source.key}:${entry.name}`;
      choices.set(value, source.params(entry));
      const option = new Option(source.label(entry), value);
      option.title = entry.summary || entry.description || "";
      group.append(option);
    }
    $("strategy").append(group);
  }
}

function countPush() {
  pushes += 1;
  $("pushes").textContent = String(pushes);
  $("updated").textContent = new Date().toLocaleTimeString();
}

function show(recommendations, append = false) {
  const list = $("recommendations");
  // Each item is dislikable from the list that showed it, even after "More".
  const fromList = recommId;
  const items = recommendations.map((rec, i) => {
    const li = document.createElement("li");
    li.dataset.productId = rec.product_id;
    li.textContent = titles.get(rec.product_id) || rec.product_id;
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = rec.reason;
    // A click views the item from this list; "not interested" dislikes it:
    // it never comes back, and items chosen with it drop.
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.textContent = "View";
    open.onclick = () => record(rec.product_id, "view", fromList);
    const no = document.createElement("button");
    no.type = "button";
    no.className = "dislike";
    no.textContent = "Not interested";
    no.onclick = () => record(rec.product_id, "dislike", fromList);
    li.append(why, open, no);
    if (append && i === 0) li.classList.add("page-start");
    return li;
  });
  if (append) list.append(...items); else list.replaceChildren(...items);
  list.classList.remove("flash");
  void list.offsetWidth;  // restart the highlight animation
  list.classList.add("flash");
}

async function record(productId, eventType, fromList = null) {
  const event = { user_id: userId(), product_id: productId, event_type: eventType };
  if (fromList) event.recomm_id = fromList;
  const response = await api("/event", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(event),
  });
  const body = await response.json();
  $("last-action").textContent = response.ok
    ? `${eventType.replace(/_/g, " ")}: ${titles.get(productId) || productId}`
    : `error: ${body.error.message}`;
}

function card(item) {
  const li = document.createElement("li");
  li.className = "card";
  li.dataset.productId = item.product_id;
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = item.title || item.product_id;
  const cat = document.createElement("span");
  cat.className = "cat";
  cat.textContent = item.categories.join(", ");
  const actions = document.createElement("div");
  actions.className = "actions";
  for (const [label, type] of [["View", "view"], ["Add to cart", "add_to_cart"], ["Purchase", "purchase"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.dataset.event = type;
    button.onclick = () => record(item.product_id, type);
    actions.append(button);
  }
  li.append(title, cat, actions);
  return li;
}

async function loadCatalogue() {
  const category = $("category").value;
  const query = new URLSearchParams({ limit: "60" });
  if (category) query.set("category", category);
  const response = await api(`/items?${query}`);
  if (!response.ok) return [];
  const { items } = await response.json();
  for (const item of items) titles.set(item.product_id, item.title || item.product_id);
  $("items").replaceChildren(...items.map(card));
  $("catalogue-empty").hidden = items.length > 0;
  return items;
}

async function loadCategories() {
  const response = await api("/items?limit=1000");
  if (!response.ok) return;
  const { items } = await response.json();
  const names = [...new Set(items.flatMap((item) => item.categories))].sort();
  for (const item of items) titles.set(item.product_id, item.title || item.product_id);
  $("category").append(...names.map((name) => new Option(name, name)));
}

$("key").value = localStorage.getItem("recsys.apiKey") || "";
$("who").onsubmit = (event) => {
  event.preventDefault();
  pushes = 0;
  localStorage.setItem("recsys.apiKey", apiKey());
  // The catalogue is empty until a key lets the page read it.
  if ($("items").children.length === 0) loadCategories().then(loadCatalogue);
  if (choices.size === 0) loadChoices();
  if (socket && socket.keyUsed !== apiKey()) {
    socket.close();  // reconnects with the new key, then registers
  } else {
    register();
  }
};
$("category").onchange = loadCatalogue;
$("more").onclick = more;
$("strategy").onchange = () => {
  mode = $("strategy").value;
  if (mode !== "live") fetchList();
  else $("list-case").textContent = "behavior_based (pushed): the next push replaces this list";
};
loadCategories().then(loadCatalogue).then(loadChoices).then(connect);
