// What every console page is made of (the operator console, the ops console): DOM helpers, bilingual labels and the
// signed-in session. Plain scripts, no build step; each service serves this file at /console/kit/ (hotline_common.pages)
// beside its own page's script, which loads after it.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}
const en = (text) => el("span", { class: "en" }, text);

// A label from a {key: [Thai, English]} table, Thai first; a key the table lacks is shown as it is.
function bilingual(table, key) {
  const found = table && table[key];
  return found ? [found[0] + " ", en(found[1])] : [key || "—"];
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// The page's session. Signing in posts the shared form (templates/kit/signin.html) to the page's own service, which
// asks the registry; the token is kept in sessionStorage under `key` (this tab only, gone when it closes).
// `enter(who)` shows the signed-in page, `leave()` stops what it runs and hides it. Any 401 signs out with a reason.
function consoleSession(key, { enter, leave }) {
  const TOKEN = key + ".token", ME = key + ".me";
  const ENDED = "หมดเวลาเข้าใช้ โปรดลงชื่อเข้าใช้อีกครั้ง · Your session has ended: sign in again";

  function show(who) {
    $("sign-in").hidden = true;
    $("who").hidden = false;
    $("who-name").textContent = who.username + " (" + who.role + ")";
    enter(who);
  }

  const session = {
    me: () => JSON.parse(sessionStorage.getItem(ME) || "null"),
    authorization: () => ({ Authorization: "Bearer " + sessionStorage.getItem(TOKEN) }),

    // fetch() with the token; a 401 ends the session and throws, so callers read only answers they may see.
    async api(method, path, { body, headers = {} } = {}) {
      const init = { method, headers: { ...headers, ...session.authorization() } };
      if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
      const response = await fetch(path, init);
      if (response.status === 401) { session.ended(); throw new Error("signed out"); }
      return response;
    },

    ended() { session.signOut(ENDED); },

    signOut(message = "") {
      leave();
      sessionStorage.clear();
      $("who").hidden = true;
      $("sign-in").hidden = false;
      $("sign-in-error").textContent = message;
      $("username").focus();
    },

    async signIn(event) {
      event.preventDefault();
      const error = $("sign-in-error");
      error.textContent = "";
      const form = new URLSearchParams({ username: $("username").value, password: $("password").value });
      const response = await fetch("/console/login", { method: "POST", body: form });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        error.textContent = typeof answer.detail === "string" ? answer.detail : "ลงชื่อเข้าใช้ไม่สำเร็จ · Sign-in failed";
        $("password").select();
        return;
      }
      sessionStorage.setItem(TOKEN, answer.access_token);
      sessionStorage.setItem(ME, JSON.stringify(answer));
      $("password").value = "";
      show(answer);
    },

    // Wires the form and the sign-out button; a tab that is still signed in (a reload) goes straight in.
    start() {
      $("sign-in-form").addEventListener("submit", session.signIn);
      $("sign-out").addEventListener("click", () => session.signOut());
      const who = session.me();
      if (who) show(who); else $("username").focus();
    },
  };
  return session;
}
