// The recsys real-time demo: native WebSocket /ws, no build step, no libraries.
"use strict";

const $ = (id) => document.getElementById(id);
const titles = new Map();
let socket = null;
let retry = 250;
let pushes = 0;

function userId() { return $("user").value.trim() || "user-1"; }

function setState(state) {
  const badge = $("state");
  badge.dataset.state = state;
  badge.className = "state " + state;
  badge.textContent = state;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  setState("connecting");
  socket.onopen = () => { retry = 250; register(); };
  socket.onmessage = (event) => handle(JSON.parse(event.data));
  socket.onclose = () => {
    setState("disconnected");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 5000);  // back off while the server is away
  };
}

function register() {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify({ event: "register_user", data: { user_id: userId() } }));
  }
}

function handle(message) {
  if (message.event === "registered") {
    setState("connected");
    $("panel-user").textContent = message.data.user_id;
  } else if (message.event === "realtime_recommendation") {
    show(message.data.recommendations);
  } else if (message.event === "error") {
    $("last-action").textContent = "server: " + message.data.message;
  }
}

function show(recommendations) {
  const list = $("recommendations");
  list.replaceChildren(...recommendations.map((rec) => {
    const li = document.createElement("li");
    li.dataset.productId = rec.product_id;
    li.textContent = titles.get(rec.product_id) || rec.product_id;
    const why = document.createElement("span");
    why.className = "why";
    why.textContent = rec.reason;
    li.append(why);
    return li;
  }));
  pushes += 1;
  $("pushes").textContent = String(pushes);
  $("updated").textContent = new Date().toLocaleTimeString();
  list.classList.remove("flash");
  void list.offsetWidth;  // restart the highlight animation
  list.classList.add("flash");
}

async function record(productId, eventType) {
  const response = await fetch("/event", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId(), product_id: productId, event_type: eventType }),
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
  const { items } = await (await fetch(`/items?${query}`)).json();
  for (const item of items) titles.set(item.product_id, item.title || item.product_id);
  $("items").replaceChildren(...items.map(card));
  $("catalogue-empty").hidden = items.length > 0;
  return items;
}

async function loadCategories() {
  const { items } = await (await fetch("/items?limit=1000")).json();
  const names = [...new Set(items.flatMap((item) => item.categories))].sort();
  for (const item of items) titles.set(item.product_id, item.title || item.product_id);
  $("category").append(...names.map((name) => new Option(name, name)));
}

$("who").onsubmit = (event) => { event.preventDefault(); pushes = 0; register(); };
$("category").onchange = loadCatalogue;
loadCategories().then(loadCatalogue).then(connect);
