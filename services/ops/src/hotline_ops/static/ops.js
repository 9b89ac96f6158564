// The ops console: a wall screen read at a glance, and worked with the keyboard. Plain JavaScript against the ops
// service's own JSON API and event stream, on the consoles' kit (kit.js: helpers, sign-in, the session).
"use strict";

const LABELS = JSON.parse($("ops-labels").textContent);
const KEEP_EVENTS = 300;  // rows the live list keeps on screen
const SEEN_IDS = 5000;  // ids remembered, so a resumed stream never shows an event twice

const BANGKOK = "Asia/Bangkok";
const clockFormat = new Intl.DateTimeFormat("th-TH-u-ca-buddhist", {
  timeZone: BANGKOK, dateStyle: "medium", timeStyle: "medium" });
const timeFormat = new Intl.DateTimeFormat("th-TH", { timeZone: BANGKOK, hour: "2-digit", minute: "2-digit",
                                                      second: "2-digit", hour12: false });
const at = (iso) => timeFormat.format(new Date(iso));

// ---- the session (kit.js) -----------------------------------------------------------------------------------------
const timers = [];
function every(ms, fn) { fn(); timers.push(setInterval(fn, ms)); }

const session = consoleSession("ops", {
  enter() {
    $("views").hidden = false;
    show("overview");
    live.connect(true);
    every(2000, refreshUrgent);
    every(3000, refreshFlow);
    every(2000, refreshHealth);
    every(5000, refreshMap);
    every(5000, refreshDeadLetterCount);
    $("f-type").focus();
  },
  leave() {
    live.stop();
    while (timers.length) clearInterval(timers.pop());
    for (const id of ["overview", "deadletters", "views"]) $(id).hidden = true;
  },
});
const api = session.api, me = session.me;

function show(view) {
  for (const name of ["overview", "deadletters"]) {
    $(name).hidden = name !== view;
    $("show-" + name).setAttribute("aria-pressed", String(name === view));
  }
  if (view === "deadletters") refreshDeadLetters();
}

// ---- the clock ------------------------------------------------------------------------------------------------------
let skew = 0;  // server time minus this machine's: countdowns follow the server's clock
const now = () => Date.now() + skew;
function tick() {
  $("clock").textContent = clockFormat.format(new Date(now()));
  for (const cell of document.querySelectorAll("[data-deadline]")) showLeft(cell);
  countUrgent();
}

// ---- open P1/P2 cases nobody has acknowledged ----------------------------------------------------------------------
function left(seconds) {
  const sign = seconds < 0 ? "−" : "";
  const s = Math.abs(seconds);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return sign + (hh ? hh + ":" + two(mm) : String(mm)) + ":" + two(ss);
}
function showLeft(cell) {
  const seconds = Math.round((Date.parse(cell.dataset.deadline) - now()) / 1000);
  const row = cell.closest("tr");
  cell.replaceChildren(el("span", { class: "time" }, left(seconds)),
                       ...(seconds < 0 ? [el("small", { class: "late" }, "เกินกำหนด ", en("breached"))] : []));
  row.classList.toggle("breached", seconds < 0);
  row.classList.toggle("soon", seconds >= 0 && seconds < 300);
}

async function refreshUrgent() {
  const response = await api("GET", "/v1/urgent");
  if (!response.ok) return;
  const answer = await response.json();
  skew = Date.parse(answer.now) - Date.now();
  const rows = answer.cases.map((c) => {
    const cell = c.ack_deadline ? el("td", { class: "left", dataset: { deadline: c.ack_deadline } })
                                : el("td", { class: "left" }, el("span", { class: "time" }, "—"));
    const unit = c.center_name_th || c.agency_name_th;
    const row = el("tr", { dataset: { case: c.case_number, priority: c.priority, stage: c.stage } },
      cell,
      el("td", {}, el("span", { class: "priority " + c.priority.toLowerCase() }, c.priority), " ",
         el("span", { class: "case" }, c.case_number),
         c.category ? el("small", {}, ...bilingual(LABELS.category, c.category)) : null),
      el("td", { class: "stage" }, ...bilingual(answer.stages, c.stage),
         c.escalation_level ? " (ระดับ " + c.escalation_level + " · level " + c.escalation_level + ")" : null),
      el("td", {}, el("strong", {}, c.province_th || "—"), unit ? el("small", {}, unit) : null));
    if (c.ack_deadline) showLeft(cell);
    else row.classList.add("stuck");
    return row;
  });
  $("urgent").replaceChildren(...rows);
  $("urgent-empty").hidden = rows.length > 0;
  countUrgent();
}

// By the rows as the countdowns show them (they turn red between two refreshes too).
function countUrgent() {
  const all = $("urgent").children.length, late = $("urgent").querySelectorAll("tr.breached").length;
  $("urgent-count").replaceChildren(all + " เรื่อง ", en(all + " cases"),
                                    ...(late ? [" · เกินกำหนด " + late + " ", en(late + " breached")] : []));
  $("urgent-count").classList.toggle("bad", late > 0);
}

// ---- rates and lag --------------------------------------------------------------------------------------------------
const short = (topic) => topic.replace(/^hotline\./, "");
async function refreshFlow() {
  const [rates, lag] = await Promise.all([api("GET", "/v1/rates"), api("GET", "/v1/lag")]);
  if (rates.ok) {
    const answer = await rates.json();
    $("rates").replaceChildren(...answer.topics.filter((t) => !t.topic.endsWith(".dlq") || t.total > 0).map((t) =>
      el("tr", { dataset: { topic: t.topic }, class: t.topic.endsWith(".dlq") ? "bad" : "" },
         el("td", {}, short(t.topic)), el("td", { class: "num rate" }, t.per_second.toFixed(2)),
         el("td", { class: "num" }, String(t.total)))));
  }
  if (lag.ok) {
    const answer = await lag.json();
    // Only who is behind, so it stands out on the wall; the rest in one line.
    const behind = answer.groups.filter((g) => g.lag > 0);
    const caughtUp = answer.groups.length - behind.length;
    $("lag").replaceChildren(...behind.map((g) =>
      el("tr", { dataset: { group: g.group, topic: g.topic }, class: "lagging" },
         el("td", {}, g.group.replace(/^hotline-/, "")), el("td", {}, short(g.topic)),
         el("td", { class: "num lag-value" }, String(g.lag)))),
      el("tr", { class: "caught-up" }, el("td", { colspan: "3" }, (behind.length ? "อื่น ๆ " : "ทุกกลุ่ม ") + caughtUp +
         " ไม่มีงานค้าง ", en((behind.length ? "the other " : "all ") + caughtUp + " caught up"))));
    $("lag-when").textContent = answer.error ? "อ่านไม่ได้ · unavailable" :
      answer.sampled_at ? at(answer.sampled_at) : "";
  }
}

// ---- the services' health: the watchdog's judgement; the whole page turns red while anything is wrong ---------------
async function refreshHealth() {
  const r = await api("GET", "/v1/health");
  if (!r.ok) return;
  const answer = await r.json();
  document.body.classList.toggle("trouble", !answer.ok);
  $("health-state").textContent = answer.ok ? "ปกติ · all working" : "มีปัญหา · trouble";
  $("health").replaceChildren(...answer.services.map((s) =>
    el("li", { dataset: { service: s.service }, class: s.ok ? "ok" : "bad" },
       el("strong", {}, s.service), " ",
       s.ok ? el("span", {}, "✓ ", en(s.instances + " up")) :
         el("span", {}, ...s.problems.flatMap((p) => ["✗ " + p.kind_th + " ", en(p.kind), el("br"), p.detail_th, " "])))));
  $("alarms").replaceChildren(...answer.alarms.map((a) =>
    el("li", { class: "bad", dataset: { service: a.service, problem: a.problem } },
       "⚠ " + a.service + " " + a.kind_th + " ", en(a.problem), " · ตั้งแต่ " + at(a.since) + " · ",
       a.paged.length ? "แจ้งเวรแล้ว " : "ยังแจ้งเวรไม่ได้ ", en(a.paged.length ? "paged " + a.paged.join(", ") :
                                                                   "not paged yet"))));
}

// ---- today's map ----------------------------------------------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
async function refreshMap() {
  const response = await api("GET", "/v1/map/today");
  if (!response.ok) return;
  const answer = await response.json();
  const most = Math.max(1, ...answer.provinces.map((p) => p.count));
  for (const path of document.querySelectorAll("#provinces path")) { path.removeAttribute("class"); }
  const bubbles = [];
  for (const p of answer.provinces) {
    const path = $("province-" + p.code);
    if (!path) continue;
    path.setAttribute("class", "has level" + Math.min(4, Math.ceil((p.count / most) * 4)));
    const r = 6 + 9 * Math.sqrt(p.count / most);
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", "bubble");
    g.dataset.code = p.code;
    const circle = document.createElementNS(SVG, "circle");
    circle.setAttribute("cx", path.dataset.x); circle.setAttribute("cy", path.dataset.y); circle.setAttribute("r", r);
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", path.dataset.x); text.setAttribute("y", Number(path.dataset.y) + 4);
    text.textContent = String(p.count);
    g.append(circle, text);
    bubbles.push(g);
  }
  $("bubbles").replaceChildren(...bubbles);
  $("today-total").textContent = answer.total + " เรื่อง · cases";
  $("top-provinces").replaceChildren(...answer.provinces.slice(0, 12).map((p) =>
    el("li", { dataset: { code: p.code } }, el("span", { class: "n" }, String(p.count)), " " + p.name_th + " ",
       en(p.name_en))));
  $("not-located").hidden = !answer.not_located;
  $("not-located").textContent = "ยังไม่ทราบจังหวัด " + answer.not_located + " · not located yet";
}

// ---- the live stream ------------------------------------------------------------------------------------------------
// Paused, the page keeps reading and holds what arrives; a dropped connection resumes with Last-Event-ID. Either
// way nothing is lost, and ids (topic/partition/offset) seen already are not shown twice.
const live = {
  controller: null, lastId: null, paused: false, held: [], seen: new Set(), order: [], generation: 0,

  params(fresh) {
    const params = new URLSearchParams();
    for (const input of $("filters").elements) if (input.name && input.value.trim()) params.append(input.name, input.value.trim());
    if (fresh) params.set("recent", "50");
    return params;
  },

  stop() { this.generation += 1; if (this.controller) this.controller.abort(); this.controller = null; },

  async connect(fresh) {
    this.stop();
    const generation = this.generation;
    const controller = new AbortController();
    this.controller = controller;
    if (fresh) { this.lastId = null; this.held = []; this.seen.clear(); this.order = []; $("events").replaceChildren(); $("gap").hidden = true; }
    const headers = session.authorization();
    if (!fresh && this.lastId) headers["Last-Event-ID"] = this.lastId;
    this.state("connecting");
    try {
      const response = await fetch("/v1/stream?" + this.params(fresh), { headers, signal: controller.signal });
      if (response.status === 401) { session.ended(); return; }
      if (!response.ok) throw new Error("stream answered " + response.status);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const hold = buffer.endsWith("\r") ? 1 : 0;  // a CR whose LF is in the next chunk
        const ready = buffer.slice(0, buffer.length - hold).replace(/\r\n?/g, "\n");
        const blocks = ready.split("\n\n");
        buffer = blocks.pop() + buffer.slice(buffer.length - hold);
        for (const block of blocks) this.block(block);
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    if (generation !== this.generation) return;
    this.state("reconnecting");
    setTimeout(() => { if (generation === this.generation) this.connect(false); }, 1000);
  },

  block(block) {
    let event = "message", data = "", id = null;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) { if (line.slice(1).trim() === "live") this.state(this.paused ? "paused" : "live"); continue; }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data += (data ? "\n" : "") + value;
      else if (field === "id") id = value;
    }
    if (event === "gap") { const gap = JSON.parse(data); $("gap").hidden = false; $("gap").textContent = gap.th + " · " + gap.en; return; }
    if (event !== "event" || !data) return;
    if (id) {
      this.lastId = id;
      if (this.seen.has(id)) return;
      this.seen.add(id); this.order.push(id);
      if (this.order.length > SEEN_IDS) this.seen.delete(this.order.shift());
    }
    const view = JSON.parse(data);
    view.id = id;
    // Every service's heartbeat, every few seconds: on the wall only when asked for.
    if (view.event_type === "ops.heartbeat" && !$("f-heartbeats").checked && $("f-type").value !== "ops.heartbeat") return;
    if (this.paused) { this.held.push(view); this.showHeld(); }
    else this.show([view]);
  },

  show(views) {
    const list = $("events");
    for (const view of views) list.prepend(eventRow(view));
    while (list.children.length > KEEP_EVENTS) list.lastElementChild.remove();
  },

  showHeld() {
    $("held").textContent = this.paused ? "ใหม่ระหว่างหยุด " + this.held.length + " รายการ · " + this.held.length + " new while paused" : "";
  },

  toggle() {
    this.paused = !this.paused;
    $("pause").setAttribute("aria-pressed", String(this.paused));
    document.body.classList.toggle("paused", this.paused);
    if (!this.paused) { this.show(this.held); this.held = []; }
    this.showHeld();
    this.state(this.paused ? "paused" : "live");
  },

  state(name) {
    const states = { live: ["● สด", "live"], paused: ["❚❚ หยุดชั่วคราว", "paused"], connecting: ["… กำลังเชื่อมต่อ", "connecting"],
                     reconnecting: ["⚠ กำลังเชื่อมต่อใหม่", "reconnecting"] };
    const shown = name === "live" && this.paused ? "paused" : name;
    $("live-state").dataset.state = shown;
    $("live-state").replaceChildren(states[shown][0] + " ", en(states[shown][1]));
  },
};

function eventRow(view) {
  const type = LABELS.event[view.event_type] || [view.event_type, view.event_type];
  const province = view.province && LABELS.province[view.province];
  const facts = [];
  if (view.channel) facts.push(el("span", { class: "fact" }, ...bilingual(LABELS.channel, view.channel)));
  if (view.category) facts.push(el("span", { class: "fact" }, ...bilingual(LABELS.category, view.category)));
  if (province) facts.push(el("span", { class: "fact province" }, province[0] + " ", en(province[1])));
  if (view.center_name_th) facts.push(el("span", { class: "fact center" }, view.center_name_th));
  if (view.dead_letter && view.details.dlq_error) facts.push(el("span", { class: "fact" }, view.details.dlq_error));
  if (!view.case_number && view.key) facts.push(el("span", { class: "fact key" }, view.key));  // e.g. routing/down
  const alarm = view.event_type === "ops.alarm";
  return el("li", { class: "event" + (view.dead_letter || alarm ? " dead" : ""), dataset: {
      id: view.id || "", type: view.event_type, case: view.case_number || "", province: view.province || "" } },
    el("time", { datetime: view.occurred_at }, at(view.occurred_at)),
    el("span", { class: "type" }, (view.dead_letter ? "⚠ คิวข้อผิดพลาด · " : "") + type[0] + " ", en(type[1])),
    view.priority ? el("span", { class: "priority " + view.priority.toLowerCase() }, view.priority) : null,
    el("span", { class: "case" }, view.case_number || ""),
    ...facts);
}

// ---- dead letters ---------------------------------------------------------------------------------------------------
let chosen = null;  // {topic, partition, offset}

async function refreshDeadLetterCount() {
  const response = await api("GET", "/v1/deadletters");
  if (!response.ok) return;
  const answer = await response.json();
  $("dlq-badge").hidden = !answer.pending;
  $("dlq-badge").textContent = String(answer.pending);
  if (!$("deadletters").hidden) renderDeadLetterTopics(answer);
}

async function refreshDeadLetters() {
  $("replay-note").hidden = me().may_replay;
  const response = await api("GET", "/v1/deadletters");
  if (response.ok) renderDeadLetterTopics(await response.json());
}

function renderDeadLetterTopics(answer) {
  const shown = answer.topics.filter((q) => q.count > 0);
  const focused = document.activeElement && document.activeElement.dataset.topic;
  $("dlq-topics").replaceChildren(...shown.map((q) => {
    const button = el("button", { type: "button", class: "pick" + (q.pending ? " bad" : ""), dataset: { topic: q.topic } },
      el("span", { class: "n" }, String(q.pending)), " " + short(q.source_topic) + " ",
      en("ค้าง " + q.pending + " / ทั้งหมด " + q.count + " · pending / all"));
    button.addEventListener("click", () => openTopic(q.topic));
    return el("li", {}, button);
  }));
  if (focused) { const again = $("dlq-topics").querySelector(`[data-topic="${focused}"]`); if (again) again.focus(); }
  $("dlq-none").hidden = shown.length > 0;
}

async function openTopic(topic, { focus = true } = {}) {
  $("dlq-topic-name").textContent = short(topic);
  const response = await api("GET", "/v1/deadletters/" + encodeURIComponent(topic));
  if (!response.ok) return;
  const answer = await response.json();
  $("dlq-records").replaceChildren(...answer.records.map((r) => {
    const button = el("button", { type: "button", class: "pick" + (r.replays.length ? "" : " bad"),
                                  dataset: { partition: r.partition, offset: r.offset, ref: r.ref } },
      el("span", { class: "n" }, "#" + r.offset), " " + at(r.timestamp) + " " + (r.error || "") + " ",
      r.case_number ? el("span", { class: "case" }, r.case_number) : null,
      r.replays.length ? el("span", { class: "ok-tag" }, " ✓ ส่งซ้ำแล้ว · replayed") : null);
    button.addEventListener("click", () => openRecord(topic, r.partition, r.offset));
    return el("li", {}, button);
  }));
  const first = $("dlq-records").querySelector("button");
  if (first && focus) first.focus();
}

async function openRecord(topic, partition, offset) {
  chosen = { topic, partition, offset };
  $("replay-result").textContent = "";
  const response = await api("GET", `/v1/deadletters/${encodeURIComponent(topic)}/${partition}/${offset}`);
  if (!response.ok) return;
  const record = await response.json();
  const type = LABELS.event[record.event_type];
  const rows = [
    ["ข้อผิดพลาด", "error", record.error],
    ["เหตุผล", "reason", record.reason],
    ["จำนวนครั้งที่ลอง", "attempts", record.attempts],
    ["หัวข้อเดิม", "original topic", record.source_topic],
    ["ประเภท", "event type", type ? type[0] + " · " + type[1] : record.event_type],
    ["เลขเรื่อง", "case", record.case_number],
    ["เวลา", "when", record.timestamp ? at(record.timestamp) : null],
  ].filter(([, , v]) => v !== null && v !== undefined && v !== "");
  const list = el("dl", { class: "record" });
  for (const [th, english, value] of rows) list.append(el("dt", {}, th + " ", en(english)), el("dd", {}, String(value)));
  const body = el("pre", { class: "body", "aria-label": "ข้อมูล (ซ่อนข้อมูลส่วนบุคคล) · payload, personal data hidden" },
                  JSON.stringify(record.payload ?? null, null, 2));
  const replays = record.replays.map((r) => el("li", {}, at(r.occurred_at) + " · " + r.replayed_by + " → " +
                                                          r.target_topic + " " + r.target_partition + "/" + r.target_offset));
  $("dlq-record").replaceChildren(list,
    replays.length ? el("div", { class: "replays" }, el("h3", {}, "ส่งซ้ำแล้ว ", en("replayed")), el("ul", {}, ...replays)) : "",
    body);
  $("replay").hidden = false;
  $("replay").disabled = !me().may_replay;
  $("replay").dataset.force = replays.length ? "true" : "false";
  $("replay").replaceChildren(...(replays.length ? ["ส่งกลับอีกครั้ง ", en("Replay again")] : ["ส่งกลับเข้าคิวเดิม ", en("Replay")]));
}

async function replay() {
  if (!chosen) return;
  const { topic, partition, offset } = chosen;
  const force = $("replay").dataset.force === "true";
  const response = await api("POST", `/v1/deadletters/${encodeURIComponent(topic)}/${partition}/${offset}/replay`,
                             { body: { force } });
  const answer = await response.json();
  const detail = typeof answer.detail === "string" ? answer.detail : (answer.detail && answer.detail.message);
  const message = response.ok ? "ส่งกลับแล้ว · replayed to " + answer.target_topic + " " + answer.target_partition + "/" + answer.target_offset
                              : (detail || "ส่งซ้ำไม่สำเร็จ · replay failed");
  if (response.ok) {
    await Promise.all([openRecord(topic, partition, offset), openTopic(topic, { focus: false })]);
    refreshDeadLetterCount();
  }
  $("replay-result").className = response.ok ? "ok" : "error";
  $("replay-result").textContent = message;
}

// ---- the keyboard ---------------------------------------------------------------------------------------------------
function keys(event) {
  if (!event.altKey || !me()) return;
  const key = event.key.toLowerCase();
  const actions = {
    p: () => live.toggle(),
    f: () => { show("overview"); $("f-type").focus(); },
    x: () => { $("filters").reset(); live.connect(true); },
    1: () => show("overview"),
    2: () => show("deadletters"),
  };
  const code = event.code.replace(/^Key|^Digit/, "").toLowerCase();
  const action = actions[key] || actions[code];
  if (action) { event.preventDefault(); action(); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("show-overview").addEventListener("click", () => show("overview"));
  $("show-deadletters").addEventListener("click", () => show("deadletters"));
  $("pause").addEventListener("click", () => live.toggle());
  $("replay").addEventListener("click", replay);
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); live.connect(true); });
  for (const select of $("filters").querySelectorAll("select")) select.addEventListener("change", () => live.connect(true));
  const typed = debounce(() => live.connect(true), 400);
  for (const input of $("filters").querySelectorAll("input")) input.addEventListener("input", typed);
  document.addEventListener("keydown", keys);
  setInterval(tick, 1000);
  tick();
  session.start();
});
