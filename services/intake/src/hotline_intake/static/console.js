// The operator console: take a call with the keyboard alone, see the case move live, find earlier cases.
// Plain JavaScript against intake's JSON API, on the consoles' kit (kit.js: helpers, sign-in, the session).
"use strict";

const LABELS = JSON.parse($("console-labels").textContent);
const RECENT = "console.recent";

// ---- labels and times -------------------------------------------------------------------------------------------
const pair = (table, key) => (table && table[key]) || [key, key];
const bangkok = new Intl.DateTimeFormat("th-TH-u-ca-buddhist", {
  timeZone: "Asia/Bangkok", dateStyle: "short", timeStyle: "short" });
const when = (iso) => bangkok.format(new Date(iso));

// ---- the session (kit.js) -----------------------------------------------------------------------------------------
const session = consoleSession("console", {
  enter: enterDesk,
  leave() { closeStream(); $("desk").hidden = true; },
});
const api = session.api, me = session.me;

function enterDesk(who) {
  $("desk").hidden = false;
  const walkIn = who.role === "center_staff";
  for (const node of document.querySelectorAll("[data-role]")) {
    node.hidden = (node.dataset.role === "center_staff") !== walkIn;
  }
  $("place-hint").hidden = !walkIn;
  $("center-place").textContent = who.center_place_th || "";
  renderRecent();
  newCall();
}

async function places(q) {
  const response = await api("GET", "/v1/places?q=" + encodeURIComponent(q));
  return response.ok ? response.json() : null;
}

// ---- taking a call ----------------------------------------------------------------------------------------------
const FIELD_OF = { caller: "caller-phone", "caller.name": "caller-name", "caller.phone": "caller-phone",
                   location: "place", category: "category", target_group: "target-group", description: "description",
                   national_id: "national-id", safety: "safe-from" };
let place = null;

function showCall() {
  $("call").hidden = false;
  $("search").hidden = true;
  $("show-call").setAttribute("aria-pressed", "true");
  $("show-search").setAttribute("aria-pressed", "false");
}

function newCall() {
  $("call").reset();
  place.reset();
  $("repeat").replaceChildren();
  $("call-errors").replaceChildren();
  for (const node of document.querySelectorAll("#call [aria-invalid]")) node.removeAttribute("aria-invalid");
  anonymous();
  showCall();
  $("caller-name").focus();
}

function anonymous() {
  const off = $("anonymous").checked;
  for (const id of ["caller-name", "caller-phone"]) $(id).disabled = off;
  if (off) $("repeat").replaceChildren();
}

function report() {
  const value = (id) => $(id).value.trim();
  const body = { channel: me().role === "center_staff" ? "walk_in" : "hotline", category: value("category"),
                 target_group: value("target-group"), description: value("description"),
                 consent_to_share: $("consent").checked, needs_place: $("needs-place").checked };
  const urgency = document.querySelector("input[name=urgency]:checked");
  if (urgency && urgency.value) body.urgency = urgency.value;
  if (value("tambon-code")) body.location = { tambon_code: value("tambon-code") };
  if (!$("anonymous").checked && (value("caller-name") || value("caller-phone"))) {
    body.caller = {};
    if (value("caller-name")) body.caller.name = value("caller-name");
    if (value("caller-phone")) body.caller.phone = value("caller-phone");
  }
  if (value("national-id")) body.national_id = value("national-id");
  const safety = {};
  for (const box of document.querySelectorAll("input[name=safety]")) safety[box.value] = box.checked;
  if (value("safe-from") && value("safe-until")) safety.safe_hours = { start: value("safe-from"), end: value("safe-until") };
  body.safety = safety;
  return body;
}

function showErrors(box, detail, fieldOf) {
  const errors = Array.isArray(detail) ? detail : [{ loc: [], msg: String(detail) }];
  let first = null;
  box.replaceChildren(...errors.map((error) => {
    const path = (error.loc || []).filter((part) => !["body", "query", "header"].includes(part));
    const id = fieldOf[path.slice(0, 2).join(".")] || fieldOf[path[0]];
    if (id) { $(id).setAttribute("aria-invalid", "true"); first = first || $(id); }
    const label = id ? document.querySelector(`label[for="${id}"]`) : null;
    return el("div", {}, (label ? label.textContent.trim() + ": " : "") + error.msg);
  }));
  if (first) first.focus();
}

async function submitCall() {
  if ($("submit").disabled) return;
  $("call-errors").replaceChildren();
  for (const node of document.querySelectorAll("#call [aria-invalid]")) node.removeAttribute("aria-invalid");
  const body = report();
  if (!body.location && me().role !== "center_staff") {
    showErrors($("call-errors"), [{ loc: ["body", "location"], msg: "เลือกตำบลจากรายการ · pick a sub-district from the list" }], FIELD_OF);
    return;
  }
  $("submit").disabled = true;
  try {
    const response = await api("POST", "/v1/cases", { body });
    const answer = await response.json();
    if (response.status === 429) {
      // Held back too long (too many reports from this account): the form keeps the report and sends it again.
      const wait = Number(response.headers.get("Retry-After") || "5");
      $("call-errors").replaceChildren(el("li", {}, `ระบบกำลังรับเรื่องจำนวนมาก จะส่งอีกครั้งใน ${wait} วินาที `,
                                          en(`busy: sending again in ${wait} s`)));
      setTimeout(submitCall, wait * 1000);
      return;
    }
    if (response.status !== 201) { showErrors($("call-errors"), answer.detail, FIELD_OF); return; }
    remember(answer);
    showCase(answer.case_id, answer.case_number, answer.status);
    newCall();
  } finally {
    $("submit").disabled = false;
  }
}

// A repeat caller: the number typed finds their earlier cases (sent in a header, never in a URL).
const checkRepeat = debounce(async () => {
  const phone = $("caller-phone").value.trim();
  const box = $("repeat");
  if ($("anonymous").checked || phone.replace(/\D/g, "").length < 9) { box.replaceChildren(); return; }
  const response = await api("GET", "/v1/cases?limit=50", { headers: { "X-Caller-Phone": phone } });
  if (!response.ok || phone !== $("caller-phone").value.trim()) return;
  const page = await response.json();
  if (page.items.length === 0) { box.replaceChildren(); return; }
  const count = page.items.length + (page.next_cursor ? "+" : "");
  box.replaceChildren(
    el("strong", {}, `โทรมาแล้ว ${count} ครั้ง `), en(`called ${count} times before`),
    el("ul", { class: "links" }, ...page.items.map((item) => el("li", {}, caseButton(item)))));
}, 400);

// ---- the case at hand: number, live timeline, details, notes ----------------------------------------------------
let current = null, source = null, lastSeen = null, seen = new Set(), retry = null;

function caseButton(item) {
  const button = el("button", { type: "button" }, item.case_number + " · " + when(item.created_at) + " · ",
                    ...bilingual(LABELS.status, item.status));
  button.addEventListener("click", () => openCase(item.case_id, item.case_number));
  return button;
}

function showCase(caseId, number, status) {
  current = caseId;
  $("case").hidden = false;
  $("case").dataset.caseId = caseId;
  $("case-number").textContent = number;
  setStatus(status);
  $("case-facts").replaceChildren();
  $("notes-box").hidden = true;
  $("related-box").hidden = true;
  $("open-details").hidden = false;
  $("copied").textContent = "";
  $("note-errors").replaceChildren();
  $("urgency-result").replaceChildren();
  $("timeline").replaceChildren();
  follow(caseId);
  loadRelated(caseId);
}

function setStatus(status) {
  $("case-status").replaceChildren("สถานะ ", en("Status"), ": ", ...bilingual(LABELS.status, status));
}

function closeStream() {
  clearTimeout(retry);
  if (source) source.close();
  source = null;
}

async function follow(caseId) {
  closeStream();
  lastSeen = null;
  seen = new Set();
  await openStream(caseId);
}

// EventSource sends no Authorization header: a one-minute ticket for this case opens the stream. EventSource
// reconnects by itself (with Last-Event-ID); once the ticket has expired, a new one resumes after the last entry.
async function openStream(caseId) {
  if (caseId !== current) return;
  let ticket;
  try {
    const response = await api("POST", `/v1/cases/${caseId}/stream-ticket`);
    if (!response.ok) return;
    ticket = (await response.json()).ticket;
  } catch (error) {
    retry = setTimeout(() => openStream(caseId), 3000);
    return;
  }
  if (caseId !== current) return;
  let url = `/v1/cases/${caseId}/stream?ticket=${encodeURIComponent(ticket)}`;
  if (lastSeen) url += "&after=" + encodeURIComponent(lastSeen);
  const stream = new EventSource(url);
  source = stream;
  stream.addEventListener("timeline", (event) => {
    lastSeen = event.lastEventId;
    addEntry(JSON.parse(event.data));
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED && source === stream) {
      retry = setTimeout(() => openStream(caseId), 3000);
    }
  });
}

function addEntry(entry) {
  if (seen.has(entry.event_id)) return;
  seen.add(entry.event_id);
  const summary = entry.summary_th ? [" " + entry.summary_th + " ", en(entry.summary_en)] : [];
  const li = el("li", { dataset: { type: entry.type, at: entry.occurred_at } },
                el("time", { datetime: entry.occurred_at }, entry.time_th),
                el("strong", {}, entry.label_th), " ", en(entry.label_en), ...summary);
  // In the order things happened (routing and notify report on different topics, so not always as heard).
  const at = new Date(entry.occurred_at);
  const later = [...$("timeline").children].find((other) => new Date(other.dataset.at) > at);
  $("timeline").insertBefore(li, later || null);
  setStatus(entry.case_status);
}

async function openCase(caseId, number) {
  showCase(caseId, number, "");
  await openDetails();
  $("case-number").focus();
}

// The audited case view: the caller's details, the notes, the related cases.
async function openDetails() {
  const caseId = current;
  const response = await api("GET", `/v1/cases/${caseId}`);
  if (!response.ok || caseId !== current) return;
  const view = await response.json();
  setStatus(view.status);
  const facts = [
    ["ปัญหา", "Problem", bilingual(LABELS.category, view.category)],
    ["ความเร่งด่วน", "Urgency", view.urgency ? bilingual(LABELS.priority, view.urgency) : ["-"]],
    ["ความเร่งด่วนตอนนี้", "Priority now", view.priority ? [view.priority + " ", ...bilingual(LABELS.priority, view.priority)] : ["-"]],
    ["ช่องทาง", "Channel", bilingual(LABELS.channel, view.channel)],
    ["รับแจ้งเมื่อ", "Reported", [when(view.created_at)]],
    ["พื้นที่", "Place", [view.place_th || view.tambon_code || "-"]],
    ["ผู้แจ้ง", "Caller", [view.caller ? [view.caller.name, view.caller.phone].filter(Boolean).join(" · ") : "ไม่ประสงค์ออกนาม · anonymous"]],
    ["ยินยอมส่งต่อ", "Consent", [view.consent_to_share ? "ยินยอม · yes" : "ไม่ได้ยินยอม · no"]],
    ["เรื่องที่แจ้ง", "Report", [view.description]],
  ];
  if (view.national_id) facts.push(["เลขประจำตัว", "National ID", [view.national_id]]);
  $("case-facts").replaceChildren(...facts.flatMap(([th, english, value]) => [
    el("dt", {}, th + " ", en(english)), el("dd", {}, ...value)]));
  $("notes").replaceChildren(...view.notes.map((note) => el("li", {},
    el("time", { datetime: note.created_at }, when(note.created_at)), " ", ...bilingual(LABELS.note_source, note.source),
    " (" + note.author + "): ", note.text)));
  $("notes-box").hidden = view.notes.length === 0;
  renderRelated(view.related);
  $("open-details").hidden = true;
}

// Linked cases hold no personal data, so they are shown at once (not audited): a possible duplicate is put to
// the operator right after the report, to decide; nothing is merged.
async function loadRelated(caseId) {
  const response = await api("GET", `/v1/cases/${caseId}/related`);
  if (response.ok && caseId === current) renderRelated(await response.json());
}

function renderRelated(related) {
  $("related").replaceChildren(...related.map((item) => {
    const parts = [...bilingual(LABELS.link, item.kind), ": ", caseButton(item)];
    if (item.kind === "possible_duplicate" && item.decision) {
      parts.push(" — ", ...bilingual(LABELS.decision, item.decision));
    } else if (item.kind === "possible_duplicate") {
      for (const decision of ["same_incident", "different"]) {
        const button = el("button", { type: "button", class: "quiet", "data-decision": decision },
                          ...bilingual(LABELS.decision, decision));
        button.addEventListener("click", () => decide(item.case_id, decision));
        parts.push(" ", button);
      }
    }
    return el("li", { class: item.kind }, ...parts);
  }));
  $("related-box").hidden = related.length === 0;
}

async function decide(otherId, decision) {
  const caseId = current;
  const response = await api("POST", `/v1/cases/${caseId}/related/${otherId}/decision`, { body: { decision } });
  if (response.status === 204) await loadRelated(caseId);
}

async function addNote(event) {
  if (event) event.preventDefault();
  const text = $("note-text").value.trim();
  if (!current || !text) return;
  const response = await api("POST", `/v1/cases/${current}/notes`, { body: { text } });
  if (response.status !== 201) {
    showErrors($("note-errors"), (await response.json()).detail, { text: "note-text" });
    return;
  }
  $("note-text").value = "";
  $("note-errors").replaceChildren();
  if (!$("notes-box").hidden) await openDetails();
}

// A follow-up call says the danger is now: routing re-prioritises the case, its responders are alerted again. The
// note being typed, if any, goes with it as the reason (sealed, like every note). Never lowers a priority.
async function raiseUrgency(event) {
  if (event) event.preventDefault();
  if (!current) return;
  const urgency = $("urgency-level").value;
  const reason = $("note-text").value.trim();
  const response = await api("POST", `/v1/cases/${current}/urgency`, { body: reason ? { urgency, reason } : { urgency } });
  const body = await response.json();
  if (!response.ok) {
    showErrors($("note-errors"), body.detail, { reason: "note-text", urgency: "urgency-level" });
    return;
  }
  if (body.raised) $("note-text").value = "";
  $("urgency-result").replaceChildren(body.raised
    ? `ยกระดับเป็น ${body.priority} แล้ว · raised to ${body.priority}`
    : `เรื่องนี้ ${body.priority} อยู่แล้ว · already ${body.priority}`);
  if (!$("open-details").hidden) return;
  await openDetails();
}

async function copyNumber() {
  const number = $("case-number").textContent;
  if (!number) return;
  try {
    await navigator.clipboard.writeText(number);
    $("copied").textContent = "คัดลอกแล้ว · copied";
  } catch (error) {  // no clipboard permission: select it for Ctrl+C
    getSelection().selectAllChildren($("case-number"));
    $("copied").textContent = "กด Ctrl+C · press Ctrl+C";
  }
}

function remember(accepted) {
  const recent = JSON.parse(sessionStorage.getItem(RECENT) || "[]");
  recent.unshift({ case_id: accepted.case_id, case_number: accepted.case_number, status: accepted.status,
                   created_at: new Date().toISOString() });
  sessionStorage.setItem(RECENT, JSON.stringify(recent.slice(0, 20)));
  renderRecent();
}

function renderRecent() {
  const recent = JSON.parse(sessionStorage.getItem(RECENT) || "[]");
  $("recent").replaceChildren(...recent.map((item) => {
    const button = el("button", { type: "button" }, item.case_number + " · " + when(item.created_at));
    button.addEventListener("click", () => showCase(item.case_id, item.case_number, item.status));
    return el("li", {}, button);
  }));
}

// ---- finding a case ---------------------------------------------------------------------------------------------
let findPlace = null, nextCursor = null;

function showSearch() {
  $("call").hidden = true;
  $("search").hidden = false;
  $("show-call").setAttribute("aria-pressed", "false");
  $("show-search").setAttribute("aria-pressed", "true");
  $("find-number").focus();
}

async function search(event, more = false) {
  if (event) event.preventDefault();
  const params = new URLSearchParams({ limit: "20" });
  const add = (key, id) => { if ($(id).value.trim()) params.set(key, $(id).value.trim()); };
  add("number", "find-number"); add("tambon_code", "find-tambon-code"); add("status", "find-status");
  add("created_from", "find-from"); add("created_to", "find-to");
  if (more && nextCursor) params.set("cursor", nextCursor);
  const phone = $("find-phone").value.trim();
  const response = await api("GET", "/v1/cases?" + params, { headers: phone ? { "X-Caller-Phone": phone } : {} });
  const page = await response.json();
  if (!response.ok) {
    showErrors($("search-errors"), page.detail, { number: "find-number", tambon_code: "find-place",
      created_from: "find-from", created_to: "find-to", "x-caller-phone": "find-phone" });
    return;
  }
  $("search-errors").replaceChildren();
  nextCursor = page.next_cursor;
  const items = page.items.map((item) => {
    const button = el("button", { type: "button", class: "result" },
      el("strong", {}, item.case_number), " · " + when(item.created_at) + " · ", ...bilingual(LABELS.status, item.status),
      el("span", { class: "excerpt" }, (item.urgency ? item.urgency + " · " : "") + pair(LABELS.category, item.category)[0]
         + " · " + (item.place_th || "-") + " — " + item.excerpt));
    button.addEventListener("click", () => openCase(item.case_id, item.case_number));
    return el("li", {}, button);
  });
  if (more) $("results").append(...items); else $("results").replaceChildren(...items);
  const shown = $("results").children.length;
  $("search-count").textContent = shown ? `พบ ${shown}${nextCursor ? "+" : ""} เรื่อง · ${shown}${nextCursor ? "+" : ""} found`
                                        : "ไม่พบเรื่อง · nothing found";
  $("more").hidden = !nextCursor;
  const first = $("results").querySelector("button");
  if (first && !more) first.focus();
}

// ↑ ↓ move through the results; Enter (a button's own) opens one.
function moveInResults(event) {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const buttons = [...$("results").querySelectorAll("button")];
  const at = buttons.indexOf(document.activeElement);
  if (at < 0) return;
  event.preventDefault();
  const next = buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
  next.focus();
}

// ---- shortcuts: `code`, not `key`, so they work with the Thai keyboard layout too --------------------------------
function shortcuts(event) {
  if ($("desk").hidden) return;
  const submit = (event.ctrlKey && event.key === "Enter") || (event.altKey && event.code === "KeyS");
  if (event.altKey && event.code === "KeyN") { event.preventDefault(); newCall(); }
  else if (event.altKey && event.code === "KeyF") { event.preventDefault(); showSearch(); }
  else if (event.altKey && event.code === "KeyC") { event.preventDefault(); copyNumber(); }
  else if (event.altKey && event.code === "KeyU") { event.preventDefault(); raiseUrgency(); }
  else if (submit) {
    event.preventDefault();
    if (document.activeElement === $("note-text")) addNote();
    else if (!$("call").hidden) submitCall();
    else search();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  place = typeahead($("place"), $("place-options"), $("tambon-code"), places);
  findPlace = typeahead($("find-place"), $("find-place-options"), $("find-tambon-code"), places);
  $("call").addEventListener("submit", (e) => { e.preventDefault(); submitCall(); });
  // Enter in a field must not send a half-taken report: Ctrl+Enter, Alt+S or the button do.
  $("call").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.ctrlKey && e.target.tagName === "INPUT") e.preventDefault();
  });
  $("search-form").addEventListener("submit", (e) => search(e));
  $("note-form").addEventListener("submit", addNote);
  $("urgency-form").addEventListener("submit", raiseUrgency);
  $("anonymous").addEventListener("change", anonymous);
  $("caller-phone").addEventListener("input", checkRepeat);
  $("copy").addEventListener("click", copyNumber);
  $("open-details").addEventListener("click", openDetails);
  $("show-call").addEventListener("click", newCall);
  $("show-search").addEventListener("click", showSearch);
  $("more").addEventListener("click", () => search(null, true));
  $("results").addEventListener("keydown", moveInResults);
  document.addEventListener("keydown", shortcuts);
  session.start();
});
