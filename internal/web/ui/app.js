// hearsay web UI: a small single-page app over the node's /api/v1. Every
// piece of data is put into the page as text (never as HTML), and the page
// talks only to its own origin.
"use strict";

const main = document.getElementById("main");
let live = null; // the EventSource of the current page
let drafts = {}; // reply drafts by post id, kept across live refreshes
// visit counts the pages routed to. A page notes it first thing; what the
// page shows or listens to after an await is dropped once another page has
// been routed to, so a slow answer, or a refresh already due, for the page
// left never replaces the page being shown.
let visit = 0;

// h builds an element: h("a", {href: "#"}, "text", child...).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  const r = await fetch("/api/v1" + path, opt);
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error((data && data.message) || r.statusText);
    e.status = r.status;
    throw e;
  }
  return data;
}

function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 3000);
}

function short(id) { return id ? id.slice(0, 12) : ""; }
// peerShort shortens a libp2p peer id from its end: every Ed25519 peer id
// starts "12D3KooW", so the start tells peers apart least.
function peerShort(id) { return id ? "…" + id.slice(-10) : ""; }
// who is how a post's author is shown: "name (short id)", or the short id.
function who(p) {
  return p.author_name ? [h("span", { class: "name" }, p.author_name), " ", h("span", { class: "mono muted" }, "(" + short(p.author) + ")")]
    : [h("span", { class: "mono" }, short(p.author))];
}
function when(iso) { return iso ? new Date(iso).toLocaleString() : "never"; }
function enc(s) { return encodeURIComponent(s); }
function encPath(p) { return p.split("/").map(enc).join("/"); }

function show(at, ...nodes) {
  if (at === visit) main.replaceChildren(...nodes);
}

// form builds a form whose submit runs fn(values) and reports errors.
function form(fields, label, fn, opts) {
  const f = h("form", { class: (opts && opts.class) || "card" });
  const row = h("div", { class: "row" });
  for (const fd of fields) {
    const id = "f-" + Math.random().toString(36).slice(2);
    let input;
    if (fd.options) {
      input = h("select", { id, name: fd.name }, fd.options.map(o => h("option", { value: o }, o)));
    } else if (fd.area) {
      input = h("textarea", { id, name: fd.name, placeholder: fd.placeholder || "", required: fd.required });
    } else {
      input = h("input", { id, name: fd.name, placeholder: fd.placeholder || "", required: fd.required, autocomplete: "off" });
    }
    if (fd.value) input.value = fd.value;
    if (fd.oninput) input.addEventListener("input", fd.oninput);
    row.append(h("div", { class: fd.area ? "wide" : null }, h("label", { for: id }, fd.label), input));
  }
  row.append(h("button", { type: "submit" }, label));
  f.append(row);
  f.addEventListener("submit", async ev => {
    ev.preventDefault();
    const vals = Object.fromEntries(new FormData(f).entries());
    const btn = f.querySelector("button[type=submit]");
    btn.disabled = true;
    try {
      await fn(vals, f);
    } catch (e) {
      toast(e.message);
    } finally {
      btn.disabled = false;
    }
  });
  return f;
}

function notLoggedIn(at) {
  show(at, h("h1", {}, "Not logged in"),
    h("p", {}, "Open the login URL that ", h("code", {}, "hearsay serve"), " printed (or ", h("code", {}, "hearsay status"),
      " prints while the node runs). It sets a session cookie for this browser."));
}

function stopLive() {
  if (live) live.close();
  live = null;
}

// listen opens the page's event stream. The node ends a stream that falls
// too far behind (a burst of thousands of entries), and EventSource
// reconnects by itself; what was stored in the gap is announced by no
// event, so each reconnection calls resync, which reads the page afresh.
function listen(at, query, handlers, resync) {
  if (at !== visit) return;
  stopLive();
  const es = new EventSource("/api/v1/events" + query);
  live = es;
  let opened = false;
  es.addEventListener("open", () => { if (opened) resync(); opened = true; });
  for (const [ev, fn] of Object.entries(handlers)) es.addEventListener(ev, e => fn(JSON.parse(e.data)));
}

// debounce runs fn once calls pause for ms.
function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

// ---- pages ----

async function groupsPage() {
  const at = visit;
  const groups = await api("GET", "/groups");
  const list = h("ul", { class: "plain" });
  for (const g of groups) {
    list.append(h("li", {},
      h("span", {}, h("a", { href: "#/g/" + g.id }, g.name), " ", h("span", { class: "mono muted" }, short(g.id)), g.left ? h("span", { class: "muted" }, " (left)") : null),
      h("span", { class: "muted" }, g.entries + " entries")));
  }
  show(at,
    h("h1", {}, "Groups"),
    groups.length ? list : h("p", { class: "muted" }, "No groups yet: create one, or join one by its id."),
    h("h2", {}, "Create a group"),
    form([
      { name: "name", label: "Name", required: true },
      { name: "write", label: "Who may write", options: ["members", "open", "owner"] },
      { name: "read", label: "Who may read", options: ["public", "members"] },
    ], "Create", async v => {
      const r = await api("POST", "/groups", { name: v.name, write: v.write, read: v.read });
      location.hash = "#/g/" + r.id;
    }),
    h("h2", {}, "Join a group"),
    form([
      { name: "id", label: "Group id (64 hex digits)", required: true },
      { name: "peer", label: "Peer address (optional)", placeholder: "/ip4/…/p2p/… (without one, the DHT finds members)" },
    ], "Join", async v => {
      toast("Joining…");
      const r = await api("POST", "/groups/" + enc(v.id.trim()) + "/join", v.peer ? { peers: [v.peer.trim()] } : {});
      toast(`Joined ${r.name}: ${r.added} ${r.added === 1 ? "entry" : "entries"} added`);
      location.hash = "#/g/" + r.id;
    }),
  );
}

function tabs(g, active) {
  const t = (name, href) => h("a", { href, class: active === name ? "active" : null }, name);
  return h("nav", { class: "tabs", "aria-label": "group" },
    t("Forum", "#/g/" + g.id), t("Collections", "#/g/" + g.id + "/sets"),
    t("Directory", "#/g/" + g.id + "/dir"), t("About", "#/g/" + g.id + "/about"));
}

// A forum page shows a group's threads a page at a time, latest activity
// first (GET /groups/{g}/threads), loading the next page as the end of the
// list scrolls into view; a thread's replies load when it is opened. New
// entries update only the threads they touch.
const threadPage = 50;

// postText is a post's text, folded behind "Show more" when it is long.
// linked is text with its http(s) URLs made links; the rest stays text.
function linked(text) {
  const out = [];
  let at = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"'()]+[^\s<>"'().,;:!?]/g)) {
    out.push(text.slice(at, m.index), h("a", { href: m[0], rel: "noopener noreferrer nofollow", target: "_blank" }, m[0]));
    at = m.index + m[0].length;
  }
  out.push(text.slice(at));
  return out;
}

function postText(p) {
  const text = h("div", { class: "text" }, p.status ? `(${p.status})` : linked(p.text));
  if (p.status || (p.text.length < 1200 && p.text.split("\n").length <= 15)) return text;
  text.classList.add("folded");
  const more = h("button", { class: "plain fold", type: "button", "aria-expanded": "false" }, "Show more");
  more.addEventListener("click", () => {
    const open = text.classList.toggle("folded") === false;
    more.textContent = open ? "Show less" : "Show more";
    more.setAttribute("aria-expanded", String(open));
  });
  return h("div", {}, text, more);
}

// mayPost says whether this node's author may write to group g now, as
// the group's write policy and members say (the node checks again).
function mayPost(g, me) {
  if (g.left) return false;
  if (g.write === "open") return true;
  if (g.write === "members") return g.members.some(m => m.author === me);
  return g.owner === me;
}

async function forumPage(gid) {
  const at = visit;
  const [g, id] = await Promise.all([api("GET", "/groups/" + gid), api("GET", "/id")]);
  const writer = mayPost(g, id.author);
  const threads = h("div", { id: "threads" });
  const end = h("p", { class: "muted", id: "threads-end" }, "Loading…");
  const cards = new Map(); // root id → { el, t, open }
  let next = "", loading = false, done = false, seen = new Set(), first = true;

  // postBox renders one post, with its reply form; onReplied runs after a reply.
  function postBox(p, onReplied) {
    const fresh = !first && !seen.has(p.id);
    seen.add(p.id);
    const box = h("article", { class: "post" + (fresh ? " fresh" : ""), "data-id": p.id },
      h("div", { class: "meta" }, ...who(p), " · ", when(p.time || hlcTime(p.hlc)), " · ", h("span", { class: "mono" }, short(p.id))),
      p.subject ? h("div", { class: "subject" }, p.subject) : null,
      postText(p));
    if (!writer) return box;
    const replyBtn = h("button", { class: "plain", type: "button", "aria-expanded": "false" }, "Reply");
    const slot = h("div");
    const openReply = () => {
      replyBtn.setAttribute("aria-expanded", "true");
      const f = form([{ name: "text", label: "Reply", area: true, required: true, value: drafts[p.id] || "",
        oninput: e => { drafts[p.id] = e.target.value; } }], "Send reply", async v => {
        await api("POST", "/groups/" + gid + "/posts", { text: v.text, reply_to: p.id });
        delete drafts[p.id];
        slot.replaceChildren();
        await onReplied();
      }, { class: "" });
      slot.replaceChildren(f);
      return f;
    };
    replyBtn.addEventListener("click", () => {
      if (slot.firstChild) { slot.replaceChildren(); replyBtn.setAttribute("aria-expanded", "false"); delete drafts[p.id]; return; }
      drafts[p.id] = drafts[p.id] || "";
      openReply().querySelector("textarea").focus();
    });
    if (p.id in drafts) openReply();
    box.append(replyBtn, slot);
    return box;
  }

  // fill renders a card for thread summary t, its replies when it is open.
  async function fill(card) {
    const t = card.t;
    const onReplied = async () => { card.open = true; await reloadThread(card); };
    const box = postBox(t.root, onReplied);
    const count = t.replies === 1 ? "1 reply" : t.replies + " replies";
    const toggle = h("button", { class: "plain", type: "button", "aria-expanded": String(card.open) },
      card.open ? "Hide replies" : "Show " + count);
    toggle.addEventListener("click", async () => { card.open = !card.open; await reloadThread(card); });
    const foot = h("div", { class: "meta" }, count, " · last ", when(t.last_time), " ", t.replies ? toggle : null);
    box.insertBefore(foot, box.querySelector("button"));
    if (card.open && t.replies) {
      const tree = await api("GET", "/groups/" + gid + "/threads/" + t.root.id);
      const render = p => h("div", {}, postBox(p, onReplied), p.replies.length ? h("div", { class: "replies" }, p.replies.map(render)) : null);
      box.append(h("div", { class: "replies" }, tree.replies.map(render)));
    }
    card.el.replaceChildren(box);
  }

  async function reloadThread(card) {
    const page = await api("GET", "/groups/" + gid + "/threads?limit=" + threadPage);
    const t = page.threads.find(x => x.root.id === card.t.root.id);
    if (t) card.t = t;
    await fill(card);
  }

  function cardFor(t) {
    let card = cards.get(t.root.id);
    if (!card) {
      card = { el: h("div", { class: "thread", "data-root": t.root.id }), t, open: false };
      cards.set(t.root.id, card);
    }
    return card;
  }

  async function more() {
    if (loading || done || at !== visit) return;
    loading = true;
    try {
      const page = await api("GET", "/groups/" + gid + "/threads?limit=" + threadPage + (next ? "&after=" + enc(next) : ""));
      for (const t of page.threads) {
        if (cards.has(t.root.id)) continue; // moved up by new activity since
        const card = cardFor(t);
        threads.append(card.el);
        await fill(card);
      }
      next = page.next || "";
      done = !next;
      end.textContent = done ? (cards.size ? "That is every thread." : "No posts yet.") : "";
      first = false;
    } finally {
      loading = false;
    }
    if (!done && end.getBoundingClientRect().top < window.innerHeight + 400) await more();
  }

  // top brings the first page up to date: threads with new activity move to
  // the top, new ones appear, and open ones reload their replies.
  async function top() {
    const page = await api("GET", "/groups/" + gid + "/threads?limit=" + threadPage);
    let at = threads.firstChild;
    for (const t of page.threads) {
      const known = cards.get(t.root.id);
      const changed = !known || known.t.last !== t.last || known.t.replies !== t.replies || known.t.root.status !== t.root.status;
      const card = cardFor(t);
      card.t = t;
      if (changed) await fill(card);
      if (at !== card.el) threads.insertBefore(card.el, at);
      at = card.el.nextSibling;
    }
    if (cards.size && end.textContent === "No posts yet.") end.textContent = "That is every thread.";
  }

  const readonly = g.left ? ["This node left this group: join it again to post."]
    : [{ members: "Only members may post here", owner: "Only the owner may post here" }[g.write], ", and this node's author (",
      h("span", { class: "mono" }, short(id.author)), ") is not one: you can read, not write. An admin can add you from the About page of a node of theirs."];
  show(at,
    h("h1", {}, g.name),
    tabs(g, "Forum"),
    writer ? form([
      { name: "subject", label: "Subject (optional)" },
      { name: "text", label: "New post", area: true, required: true },
    ], "Post", async (v, f) => {
      await api("POST", "/groups/" + gid + "/posts", v.subject ? { subject: v.subject, text: v.text } : { text: v.text });
      f.reset();
      await top();
    }) : h("p", { class: "card muted", id: "readonly" }, ...readonly),
    threads, end);
  await more();
  new IntersectionObserver(es => { if (es.some(e => e.isIntersecting)) more().catch(e => toast(e.message)); }, { rootMargin: "400px" }).observe(end);
  const again = debounce(() => top().catch(e => toast(e.message)), 30);
  listen(at, "?group=" + gid, { entry: e => { if (["post", "sealed", "retract", "hide"].includes(e.kind)) again(); } }, again);
}

// hlcTime is the wall-clock time an hlc carries: its top 48 bits are ms.
function hlcTime(hlc) { return new Date(Math.floor(hlc / 65536)).toISOString(); }

async function setsPage(gid, name) {
  const at = visit;
  const g = await api("GET", "/groups/" + gid);
  const body = h("div");
  async function load(set) {
    const els = await api("GET", "/groups/" + gid + "/sets/" + enc(set));
    const list = h("ul", { class: "plain" });
    for (const el of els) {
      list.append(h("li", {}, h("span", {}, el.element),
        h("button", { class: "danger", type: "button", onclick: async () => {
          try { await api("DELETE", "/groups/" + gid + "/sets/" + enc(set) + "/" + enc(el.element)); await load(set); }
          catch (e) { toast(e.message); }
        } }, "Remove")));
    }
    body.replaceChildren(
      h("h2", {}, "Set “" + set + "”"),
      els.length ? list : h("p", { class: "muted" }, "Empty."),
      form([{ name: "element", label: "Element", required: true }], "Add", async (v, f) => {
        await api("POST", "/groups/" + gid + "/sets/" + enc(set), { element: v.element });
        f.reset();
        await load(set);
      }));
  }
  const names = await api("GET", "/groups/" + gid + "/sets");
  const sets = names.length
    ? h("ul", { class: "plain", id: "sets" }, names.map(n => h("li", {}, h("a", { href: "#/g/" + gid + "/sets/" + enc(n), class: n === name ? "active" : null }, n))))
    : h("p", { class: "muted" }, "No sets yet: name one below to start it.");
  show(at, h("h1", {}, g.name), tabs(g, "Collections"), h("h2", {}, "Sets"), sets,
    form([{ name: "set", label: "Set name", required: true, value: name || "" }], "Open", async v => {
      location.hash = "#/g/" + gid + "/sets/" + enc(v.set);
    }),
    body);
  if (name) await load(name);
}

async function dirPage(gid) {
  const at = visit;
  const g = await api("GET", "/groups/" + gid);
  const results = h("ul", { class: "plain", id: "paths" });
  const detail = h("div");
  let query = 0;
  async function search(prefix) {
    const mine = ++query;
    const vers = await api("GET", "/groups/" + gid + "/dir?prefix=" + enc(prefix));
    if (mine !== query) return; // a later keystroke's answer wins
    results.replaceChildren(...vers.map(v => h("li", {},
      h("a", { href: "#", onclick: ev => { ev.preventDefault(); open(v.path); } }, v.path),
      h("span", { class: "muted mono" }, short(v.author)))));
    if (!vers.length) results.replaceChildren(h("li", { class: "muted" }, "No paths."));
  }
  // valueOf shows what a version wrote: its text, or a large file's card
  // (the latest) or download link (an older one).
  async function valueOf(path, ver, latest) {
    if (ver.file && latest) return await fileCard(gid, path, ver.file);
    if (ver.file) return h("p", {}, "A large file of " + ver.file.size.toLocaleString("en") + " bytes: ",
      h("a", { href: "/api/v1/groups/" + gid + "/files/" + encPath(path) + "?version=" + ver.id, download: path.split("/").pop() }, "download this version"));
    return h("pre", { class: "value" }, ver.value !== undefined ? ver.value : "(binary: " + ver.value_base64.length + " base64 characters)");
  }
  async function open(path) {
    const [cur, hist] = await Promise.all([
      api("GET", "/groups/" + gid + "/dir/" + encPath(path)),
      api("GET", "/groups/" + gid + "/history/" + encPath(path)),
    ]);
    const shown = h("div", { id: "version" }, await valueOf(path, cur, true));
    const rows = [];
    // Each put in the history opens the value it wrote, in place of the
    // latest; an rm wrote none.
    async function pick(v, row) {
      try {
        const ver = v.id === cur.id ? cur : await api("GET", "/groups/" + gid + "/dir/" + encPath(path) + "?version=" + v.id);
        shown.replaceChildren(...(v.id === cur.id ? [] : [h("p", { class: "muted" }, "Version " + short(v.id) + " of " + hlcTime(v.hlc) + (v.status ? " (" + v.status + ")" : "") + " — ",
          h("a", { href: "#", onclick: ev => { ev.preventDefault(); pick(cur, rows[hist.findIndex(x => x.id === cur.id)]); } }, "back to the latest"))]), await valueOf(path, ver, v.id === cur.id));
        for (const r of rows) r.removeAttribute("aria-current");
        row.setAttribute("aria-current", "true");
      } catch (e) { toast(e.message); }
    }
    for (const v of hist) {
      const row = h("tr", { "aria-current": v.id === cur.id ? "true" : null });
      row.append(h("td", {}, v.op), h("td", { class: "mono" }, v.op === "put"
        ? h("a", { href: "#", "data-version": v.id, title: "show this version's value", onclick: ev => { ev.preventDefault(); pick(v, row); } }, short(v.id))
        : short(v.id)),
        h("td", {}, hlcTime(v.hlc)), h("td", { class: "mono" }, short(v.author)), h("td", {}, v.status || ""));
      rows.push(row);
    }
    detail.replaceChildren(
      h("h2", {}, path),
      shown,
      h("button", { class: "danger", type: "button", onclick: async () => {
        try { await api("DELETE", "/groups/" + gid + "/dir/" + encPath(path)); toast("Removed " + path); detail.replaceChildren(); await search(box.value); }
        catch (e) { toast(e.message); }
      } }, "Remove"),
      h("h2", {}, "History"),
      h("table", { id: "history" }, h("thead", {}, h("tr", {}, h("th", {}, "op"), h("th", {}, "version"), h("th", {}, "time"), h("th", {}, "author"), h("th", {}, "status"))), h("tbody", {}, rows)));
  }
  const box = h("input", { id: "prefix", type: "search", placeholder: "type a path prefix", autocomplete: "off", "aria-label": "path prefix" });
  box.addEventListener("input", debounce(() => search(box.value).catch(e => toast(e.message)), 120));
  show(at, h("h1", {}, g.name), tabs(g, "Directory"),
    h("div", { class: "card" }, h("label", { for: "prefix" }, "Find paths"), box, results),
    detail,
    h("h2", {}, "Write a path"),
    form([{ name: "path", label: "Path", required: true, placeholder: "docs/readme.txt" }, { name: "value", label: "Value", area: true }], "Save", async (v, f) => {
      await api("PUT", "/groups/" + gid + "/dir/" + encPath(v.path), { value: v.value || "" });
      f.reset();
      toast("Saved " + v.path);
      await search(box.value);
      await open(v.path);
    }));
  await search("");
  async function upload(file, path) {
    const r = await fetch("/api/v1/groups/" + gid + "/files/" + encPath(path), {
      method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: file });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error((data && data.message) || r.statusText);
    return data;
  }
  const picker = h("input", { type: "file", name: "file", id: "file", "aria-label": "file to upload" });
  const target = h("input", { name: "target", id: "target", placeholder: "videos/", "aria-label": "folder to upload into" });
  if (at !== visit) return;
  main.append(h("h2", {}, "Upload a large file"),
    h("form", { class: "card", id: "upload", onsubmit: async ev => {
      ev.preventDefault();
      const file = picker.files[0];
      if (!file) { toast("Choose a file"); return; }
      const dirPart = target.value.replace(/^\/+|\/+$/g, "");
      const path = (dirPart ? dirPart + "/" : "") + file.name;
      const button = ev.target.querySelector("button");
      button.disabled = true;
      try {
        const res = await upload(file, path);
        toast("Stored " + path + " on " + res.holders.length + " peers");
        await search(box.value);
        await open(path);
      } catch (e) { toast(e.message); }
      finally { button.disabled = false; }
    } }, h("label", { for: "file" }, "File"), picker, h("label", { for: "target" }, "Folder"), target, h("button", { type: "submit" }, "Upload")));
}

// fileCard shows a large file: its size and coding, a download link and
// its health as this node sees it.
async function fileCard(gid, path, file) {
  const health = h("p", { class: "muted", id: "health" }, "checking health…");
  api("GET", "/groups/" + gid + "/file-status/" + encPath(path)).then(st => {
    health.className = st.healthy ? "ok" : "warn";
    health.textContent = (st.healthy ? "healthy" : "not healthy") + ": " + st.shards_live + " of " + st.shards_total +
      " shards live on " + st.holders.length + " peers" + (st.note ? " — " + st.note : "");
  }).catch(e => { health.textContent = e.message; });
  return h("div", { class: "card", id: "filecard" },
    h("p", {}, "Large file: " + file.size.toLocaleString() + " bytes, " + file.k + " data + " + file.m + " parity shards per stripe" + (file.sealed ? ", sealed" : "")),
    h("p", {}, h("a", { href: "/api/v1/groups/" + gid + "/files/" + encPath(path), download: path.split("/").pop(), id: "download" }, "Download")),
    health);
}

async function aboutPage(gid) {
  const at = visit;
  const g = await api("GET", "/groups/" + gid);
  const hideButton = (author, label) => h("button", { class: "danger", type: "button", onclick: async () => {
    try { await api("POST", "/groups/" + gid + "/hidden-authors", { author }); if (at === visit) await aboutPage(gid); }
    catch (e) { toast(e.message); }
  } }, label);
  const hideForm = form([{ name: "author", label: "Author id", required: true }], "Hide author", async (v, f) => {
    await api("POST", "/groups/" + gid + "/hidden-authors", { author: v.author.trim() });
    f.reset();
    if (at === visit) await aboutPage(gid);
  });
  hideForm.id = "hide-author";
  const members = h("ul", { class: "plain" }, g.members.map(m => h("li", {}, h("span", { class: "mono" }, m.author), m.admin ? h("span", { class: "muted" }, "admin") : null)));
  show(at, h("h1", {}, g.name), tabs(g, "About"),
    h("div", { class: "card" },
      h("table", {}, h("tbody", {},
        h("tr", {}, h("th", {}, "id"), h("td", { class: "mono" }, g.id)),
        h("tr", {}, h("th", {}, "owner"), h("td", { class: "mono" }, g.owner)),
        h("tr", {}, h("th", {}, "write"), h("td", {}, g.write)),
        h("tr", {}, h("th", {}, "read"), h("td", {}, g.read)),
        h("tr", {}, h("th", {}, "entries"), h("td", {}, g.entries)),
        h("tr", {}, h("th", {}, "digest"), h("td", { class: "mono" }, g.digest))))),
    h("h2", {}, "Members"), members,
    form([{ name: "author", label: "Author id", required: true }, { name: "admin", label: "Role", options: ["member", "admin"] }], "Add member", async (v, f) => {
      await api("POST", "/groups/" + gid + "/members", { author: v.author.trim(), admin: v.admin === "admin" });
      f.reset();
      if (at === visit) await aboutPage(gid);
    }),
    ...(g.equivocators.length ? [h("h2", {}, "Equivocators"),
      h("p", { class: "muted" }, "Each signed two different entries with one sequence number: the pair is the proof."),
      h("ul", { class: "plain", id: "equivocators" }, g.equivocators.map(e => h("li", {}, h("span", { class: "mono" }, e.author),
        e.hidden ? h("span", { class: "muted" }, "hidden") : hideButton(e.author, "Hide author"))))] : []),
    h("h2", {}, "Hidden authors"),
    g.hidden_authors.length ? h("ul", { class: "plain", id: "hidden" }, g.hidden_authors.map(x => h("li", {},
      h("span", {}, h("span", { class: "mono" }, x.author), " ", h("span", { class: "muted" }, "by " + short(x.by))),
      h("button", { class: "plain", type: "button", onclick: async () => {
        try { await api("DELETE", "/groups/" + gid + "/hidden-authors/" + x.author); if (at === visit) await aboutPage(gid); }
        catch (e) { toast(e.message); }
      } }, "Unhide"))))
      : h("p", { class: "muted", id: "hidden" }, "None: an admin can hide every entry of an author, in any group (they are still stored and replicated)."),
    hideForm,
    h("h2", {}, "Export and leave"),
    h("p", {}, h("a", { href: "/api/v1/groups/" + gid + "/export", download: g.name + ".export" }, "Download an export file")),
    h("button", { class: "danger", type: "button", onclick: async () => {
      if (!confirm("Stop replicating " + g.name + "? Its entries stay here.")) return;
      try { await api("POST", "/groups/" + gid + "/leave", {}); toast("Left " + g.name); location.hash = "#/groups"; }
      catch (e) { toast(e.message); }
    } }, "Leave group"));
}

async function networkPage() {
  const at = visit;
  async function render() {
    const [st, peers, bans] = await Promise.all([api("GET", "/status"), api("GET", "/peers"), api("GET", "/bans")]);
    show(at, h("h1", {}, "Network"),
      h("div", { class: "card" },
        h("p", {}, "Peer id ", h("span", { class: "mono" }, st.peer_id)),
        h("p", {}, "Author id ", h("span", { class: "mono" }, st.author)),
        h("p", {}, "Addresses to share:"),
        h("ul", { class: "plain" }, (st.addrs.length ? st.addrs : ["(not listening)"]).map(a => h("li", { class: "mono" }, a)))),
      h("h2", {}, "Groups"),
      h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, ["group", "entries", "digest", "neighbours", "round trip", "last sync"].map(x => h("th", {}, x)))),
        h("tbody", {}, st.groups.map(g => h("tr", {}, h("td", {}, h("a", { href: "#/g/" + g.id }, g.name)), h("td", {}, g.entries),
          h("td", { class: "mono" }, short(g.digest)), h("td", {}, g.neighbours.length),
          h("td", {}, g.neighbour_rtt_ms ? g.neighbour_rtt_ms.toFixed(g.neighbour_rtt_ms < 10 ? 1 : 0) + " ms" : "–"), h("td", {}, g.paused ? h("strong", { title: "over this node's caps: hearsay group resume" }, "paused") : when(g.last_sync))))))),
      h("h2", {}, "Peers"),
      peers.length ? h("div", { class: "scroll" }, h("table", { id: "peers" }, h("thead", {}, h("tr", {}, ["peer", "in", "out", "score", "standing", "violations"].map(x => h("th", {}, x)))),
        h("tbody", {}, peers.map(p => h("tr", {}, h("td", { class: "mono", title: p.peer_id }, peerShort(p.peer_id)), h("td", {}, p.bytes_in), h("td", {}, p.bytes_out),
          h("td", { title: Object.entries(p.parts || {}).map(([k, v]) => k + " " + v.toFixed(2)).join(", ") || "nothing counted" }, (p.score || 0).toFixed(2)),
          h("td", {}, p.level || "good"), h("td", {}, p.violations))))))
        : h("p", { class: "muted" }, "No peers connected."),
      h("h2", {}, "Banned peers"),
      bans.length ? h("div", { class: "scroll" }, h("table", { id: "bans" }, h("thead", {}, h("tr", {}, ["peer", "until", "bans"].map(x => h("th", {}, x)))),
        h("tbody", {}, bans.map(b => h("tr", {}, h("td", { class: "mono", title: b.peer_id }, peerShort(b.peer_id)), h("td", {}, when(b.until)), h("td", {}, b.count))))))
        : h("p", { class: "muted", id: "bans" }, "None: a peer that misbehaves is banned for a while (hearsay ban, unban)."));
  }
  await render();
  const again = debounce(() => render().catch(e => toast(e.message)), 200);
  listen(at, "", { status: again }, again);
}

// ---- routing ----

async function route() {
  const at = ++visit;
  stopLive();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const page = parts[0] || "groups";
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === (page === "g" ? "groups" : page));
  try {
    if (page === "g" && parts[1]) {
      const gid = enc(parts[1]);
      if (parts[2] === "sets") await setsPage(gid, parts[3]);
      else if (parts[2] === "dir") await dirPage(gid);
      else if (parts[2] === "about") await aboutPage(gid);
      else await forumPage(gid);
    } else if (page === "network") {
      await networkPage();
    } else {
      await groupsPage();
    }
  } catch (e) {
    if (e.status === 401) notLoggedIn(at);
    else show(at, h("h1", {}, "Something went wrong"), h("p", {}, e.message), h("p", {}, h("a", { href: "#/groups" }, "Back to groups")));
  }
}

window.addEventListener("hashchange", () => { drafts = {}; route(); });
route();
