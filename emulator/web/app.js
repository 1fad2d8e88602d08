// The emulator's web view: chats on the left, the chosen chat's transcript on the right.
// Every string from the server is set as text; only `html` (built from entities) is HTML.
"use strict";

const state = {
  chats: [],
  users: [],
  selected: null,
  version: -1,
  transcript: null,
  presserByChat: new Map(),
  revealed: new Set(),
};

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function getJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function initials(title) {
  const words = title.replace(/[^\p{L}\p{N} ]/gu, " ").trim().split(/\s+/);
  return ((words[0] || "?")[0] + (words[1] ? words[1][0] : "")).toUpperCase();
}

function hashOf(text) {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)) % 9973;
  return hash;
}

// Telegram's seven avatar colours, picked by a hash of the chat.
const AVATAR_COLOURS = ["#e17076", "#faa774", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae"];

function avatar(title, key) {
  const node = el("div", "avatar", initials(title));
  const colour = AVATAR_COLOURS[hashOf(`${key}${title}`) % AVATAR_COLOURS.length];
  node.style.background = `linear-gradient(180deg, ${colour}cc, ${colour})`;
  return node;
}

function clock(unix) {
  const date = new Date(unix * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function typeLabel(chat) {
  if (chat.type === "private") return "private chat";
  if (chat.type === "channel") return `channel · ${chat.member_count} members`;
  return `${chat.type} · ${chat.member_count} members`;
}

// --- chat list ---------------------------------------------------------------------------

function renderChatList() {
  const list = $("chat-list");
  list.replaceChildren();
  if (state.chats.length === 0) list.append(el("p", "empty", "No chats yet."));
  for (const chat of state.chats) {
    const item = el("button", "chat-item");
    item.type = "button";
    item.dataset.key = chat.key;
    if (chat.key === state.selected) item.classList.add("selected");
    const text = el("div", "chat-item-text");
    text.append(el("div", "chat-item-title", chat.title), el("div", "chat-item-preview", chat.preview));
    item.append(avatar(chat.title, chat.key), text);
    item.addEventListener("click", () => selectChat(chat.key));
    list.append(item);
  }
}

function selectChat(key) {
  state.selected = key;
  state.transcript = null;
  renderChatList();
  loadTranscript(true).catch(showError);
}

// --- who presses ---------------------------------------------------------------------------

function renderPresser() {
  const select = $("presser");
  const chat = state.chats.find((c) => c.key === state.selected);
  if (!chat) { select.replaceChildren(); return; }
  // Rebuilt only when its choices change, so an open drop-down survives live updates.
  const signature = `${chat.key}|${chat.pressers}|${state.users.map((u) => u.id)}`;
  if (select.dataset.signature === signature) return;
  select.dataset.signature = signature;
  select.replaceChildren();
  const wanted = state.presserByChat.get(chat.key) ?? chat.pressers[0];
  const ordered = [
    ...chat.pressers.map((id) => state.users.find((u) => u.id === id)).filter(Boolean),
    ...state.users.filter((u) => !chat.pressers.includes(u.id)),
  ];
  for (const user of ordered) {
    const label = user.username ? `${user.name} (@${user.username})` : user.name;
    const option = el("option", null, label);
    option.value = String(user.id);
    option.selected = user.id === wanted;
    select.append(option);
  }
}

$("presser").addEventListener("change", (event) => {
  if (state.selected) state.presserByChat.set(state.selected, Number(event.target.value));
});

// --- transcript ----------------------------------------------------------------------------

function keyboard(message) {
  const board = el("div", "keyboard");
  message.keyboard.forEach((row, rowIndex) => {
    const line = el("div", "keyboard-row");
    row.forEach((button, column) => {
      let node;
      if (button.kind === "url") {
        node = el("a", "key key-url", button.text);
        node.href = button.url;
        node.target = "_blank";
        node.rel = "noopener noreferrer";
      } else {
        node = el("button", "key", button.text);
        node.type = "button";
        if (button.kind === "callback") {
          node.addEventListener("click", () => press(message.id, rowIndex, column, node));
        } else {
          node.disabled = true;
        }
      }
      line.append(node);
    });
    board.append(line);
  });
  return board;
}

function bubble(message, chat) {
  const row = el("div", message.from_bot ? "row incoming" : "row outgoing");
  row.dataset.messageId = String(message.id);
  const box = el("div", "bubble");
  if (chat.type !== "private" || message.via) {
    const name = el("div", "sender", message.sender.name);
    name.style.color = `hsl(${hashOf(message.sender.name) % 360}, 60%, 40%)`;
    if (message.via) name.append(el("span", "via", ` via ${message.via}`));
    box.append(name);
  }
  if (message.forwarded_from) box.append(el("div", "forwarded", `Forwarded from ${message.forwarded_from}`));
  if (message.reply_to) {
    const quote = el("div", "reply");
    quote.append(el("div", "reply-sender", message.reply_to.sender), el("div", "reply-text", message.reply_to.preview));
    box.append(quote);
  }
  if (message.photo) box.append(el("div", "photo", "Photo"));
  if (message.document) box.append(el("div", "document", message.document));
  const text = el("div", "text");
  text.innerHTML = message.html;
  const revealKey = `${chat.key}:${message.id}`;
  for (const spoiler of text.querySelectorAll("tg-spoiler")) {
    if (state.revealed.has(revealKey)) spoiler.classList.add("revealed");
    spoiler.addEventListener("click", () => {
      state.revealed.add(revealKey);
      for (const each of text.querySelectorAll("tg-spoiler")) each.classList.add("revealed");
    });
  }
  for (const link of text.querySelectorAll("a")) {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  if (message.html) box.append(text);
  const meta = el("div", "meta");
  if (message.edits > 0) {
    const edited = el("span", "edited", "edited");
    edited.title = `edited ${message.edits} time${message.edits === 1 ? "" : "s"}`;
    meta.append(edited);
  }
  meta.append(el("span", "time", clock(message.date)));
  box.append(meta);
  const stack = el("div", "stack");
  stack.append(box);
  if (message.keyboard.length > 0) stack.append(keyboard(message));
  row.append(stack);
  return row;
}

function renderTranscript(scrollToEnd) {
  const pane = $("transcript");
  const data = state.transcript;
  if (!data) return;
  const nearEnd = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
  $("chat-title").textContent = data.chat.title;
  $("chat-meta").textContent = typeLabel(data.chat);
  pane.replaceChildren();
  if (data.messages.length === 0) pane.append(el("p", "empty", "No messages yet."));
  for (const message of data.messages) {
    if (message.service) {
      const line = el("div", "service");
      line.append(el("span", null, message.service));
      pane.append(line);
    } else {
      pane.append(bubble(message, data.chat));
    }
  }
  if (scrollToEnd || nearEnd) pane.scrollTop = pane.scrollHeight;
}

async function loadTranscript(scrollToEnd) {
  if (!state.selected) return;
  const key = state.selected;
  const data = await getJson(`/web/api/chats/${encodeURIComponent(key)}/messages`);
  if (key !== state.selected) return;
  state.transcript = data;
  renderPresser();
  renderTranscript(scrollToEnd);
}

// --- pressing and toasts -------------------------------------------------------------------

let toastTimer = null;

function toast(text, kind) {
  const node = $("toast");
  node.textContent = text;
  node.className = `toast ${kind || ""}`;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, kind === "alert" ? 5000 : 2500);
}

function showError(error) {
  toast(String(error.message || error), "error");
}

async function press(messageId, row, column, node) {
  const userId = Number($("presser").value);
  if (!userId) { toast("Choose who presses first", "error"); return; }
  node.classList.add("pressing");
  node.disabled = true;
  try {
    const response = await fetch("/web/api/press", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ chat: state.selected, message_id: messageId, row, column, user_id: userId }),
    });
    const body = await response.json();
    if (!response.ok) {
      toast(body.error || `error ${response.status}`, "error");
    } else if (body.answer.text) {
      toast(body.answer.text, body.answer.show_alert ? "alert" : "");
    } else if (body.answer.url) {
      toast(`Open ${body.answer.url}`, "");
    }
  } catch (error) {
    showError(error);
  } finally {
    node.classList.remove("pressing");
    node.disabled = false;
  }
}

// --- live updates --------------------------------------------------------------------------

async function refresh() {
  const [chats, users] = await Promise.all([getJson("/web/api/chats"), getJson("/web/api/users")]);
  state.chats = chats.chats;
  state.users = users.users;
  state.version = chats.version;
  if (!state.selected && state.chats.length > 0) state.selected = state.chats[0].key;
  renderChatList();
  await loadTranscript(false);
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function watch() {
  // Long poll: the server answers when the version moves (or after a while without change).
  for (;;) {
    try {
      const { version } = await getJson(`/web/api/version?after=${state.version}`);
      $("live").classList.remove("offline");
      if (version !== state.version) await refresh();
    } catch (error) {
      $("live").classList.add("offline");
      await pause(2000);
    }
  }
}

refresh().catch(showError).finally(watch);
