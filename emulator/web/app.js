// The emulator's web view: chats on the left, the chosen chat's transcript on the right, and a
// composer under it that writes as the chosen user; new users and groups are made on the left.
// Every string from the server is set as text; only `html` (built from entities) is HTML.
"use strict";

const state = {
  chats: [],
  users: [],
  bots: [],
  selected: null,
  version: -1,
  transcript: null,
  presserByChat: new Map(),
  revealed: new Set(),
  replyTo: null, // { id, sender, preview } of the message the next one answers
  file: null, // { name, size, data (base64) } sent with the next message
  sending: false,
};

// The server's own cap (emulator.composer.FILE_MAX_BYTES), checked before a file is read.
const FILE_MAX_BYTES = 20 * 1024 * 1024;

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

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch (error) {
    // Not JSON (a proxy's page, say): the status alone is reported.
  }
  if (!response.ok) throw new Error(answer.error || `error ${response.status}`);
  return answer;
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
  const kind = chat.is_forum ? "forum" : chat.type;
  return `${kind} · ${chat.member_count} members`;
}

// A forum's topics under its title: each by name, closed ones marked.
function renderTopics(chat) {
  const bar = $("chat-topics");
  bar.replaceChildren();
  bar.hidden = !chat.is_forum;
  if (!chat.is_forum) return;
  bar.append(el("span", "topic-chip general", "General"));
  for (const topic of chat.topics) {
    const chip = el("span", "topic-chip", topic.closed ? `${topic.name} (closed)` : topic.name);
    if (topic.closed) chip.classList.add("closed");
    chip.dataset.threadId = String(topic.id);
    bar.append(chip);
  }
}

// --- chat list ---------------------------------------------------------------------------

// The chosen chat as last loaded: it may not be listed yet (a private chat nobody wrote in).
function currentChat() {
  if (state.transcript && state.transcript.chat.key === state.selected) return state.transcript.chat;
  return state.chats.find((c) => c.key === state.selected);
}

function renderChatList() {
  const list = $("chat-list");
  list.replaceChildren();
  const chosen = currentChat();
  const unlisted = chosen && !state.chats.some((c) => c.key === chosen.key);
  const chats = unlisted ? [chosen, ...state.chats] : state.chats;
  if (chats.length === 0) list.append(el("p", "empty", "No chats yet."));
  for (const chat of chats) {
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
  if (key !== state.selected) {
    state.replyTo = null;
    state.file = null;
    $("file").value = "";
  }
  state.selected = key;
  state.transcript = null;
  renderChatList();
  loadTranscript(true).catch(showError);
}

// --- who presses ---------------------------------------------------------------------------

function renderPresser() {
  const select = $("presser");
  const chat = currentChat();
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

function documentCard(message) {
  const card = el("div", "document");
  card.append(el("span", "document-name", message.document));
  if (message.document_size !== null && message.document_size !== undefined) {
    card.append(el("span", "document-size", sizeLabel(message.document_size)));
  }
  if (message.document_url) {
    const link = el("a", "document-download", "Download");
    link.href = message.document_url;
    link.download = message.document;
    card.append(link);
  }
  return card;
}

// A few of Telegram's reaction emoji, offered by the picker.
const PICKER_EMOJI = ["👍", "❤", "🔥", "🎉", "😢", "🤔"];

function reactionBar(message) {
  const bar = el("div", "reactions");
  const me = actingUser();
  for (const reaction of message.reactions) {
    const chip = el("button", "reaction", `${reaction.label} ${reaction.count}`);
    chip.type = "button";
    chip.dataset.kind = reaction.kind;
    if (reaction.users.includes(me)) chip.classList.add("mine");
    if (reaction.kind === "emoji") {
      chip.addEventListener("click", () => react(message.id, reaction.label));
    } else {
      chip.disabled = true;
    }
    bar.append(chip);
  }
  const open = el("button", "reaction-add", "+");
  open.type = "button";
  open.title = "React";
  const picker = el("div", "picker");
  picker.hidden = true;
  for (const symbol of PICKER_EMOJI) {
    const choice = el("button", "pick", symbol);
    choice.type = "button";
    choice.addEventListener("click", () => { picker.hidden = true; react(message.id, symbol); });
    picker.append(choice);
  }
  open.addEventListener("click", () => { picker.hidden = !picker.hidden; });
  bar.append(open, picker);
  return bar;
}

async function react(messageId, emoji) {
  const userId = actingUser();
  if (!userId) { toast("Choose who reacts first", "error"); return; }
  try {
    await postJson("/web/api/react", { chat: state.selected, message_id: messageId, user_id: userId, emoji });
    await refresh();
  } catch (error) {
    showError(error);
  }
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
  if (message.topic) box.append(el("div", "topic", `# ${message.topic}`));
  if (message.forwarded_from) box.append(el("div", "forwarded", `Forwarded from ${message.forwarded_from}`));
  if (message.reply_to) {
    const quote = el("div", "reply");
    quote.append(el("div", "reply-sender", message.reply_to.sender), el("div", "reply-text", message.reply_to.preview));
    box.append(quote);
  }
  if (message.photo && message.photo_url) {
    const image = el("img", "photo-image");
    image.src = message.photo_url;
    image.alt = "Photo";
    box.append(image);
  } else if (message.photo) {
    box.append(el("div", "photo", "Photo"));
  }
  if (message.document) box.append(documentCard(message));
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
  const reply = el("button", "reply-button", "Reply");
  reply.type = "button";
  reply.title = "Reply to this message";
  reply.addEventListener("click", () => {
    const preview = text.textContent || message.document || (message.photo ? "Photo" : "");
    state.replyTo = { id: message.id, sender: message.sender.name, preview: preview.slice(0, 80) };
    renderComposer(currentChat());
    $("message").focus();
  });
  meta.append(reply);
  if (message.edits > 0) {
    const edited = el("span", "edited", "edited");
    edited.title = `edited ${message.edits} time${message.edits === 1 ? "" : "s"}`;
    meta.append(edited);
  }
  meta.append(el("span", "time", clock(message.date)));
  box.append(meta);
  const stack = el("div", "stack");
  stack.append(box);
  stack.append(reactionBar(message));
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
  renderTopics(data.chat);
  pane.replaceChildren();
  if (data.messages.length === 0) pane.append(el("p", "empty", "No messages yet."));
  for (const message of data.messages) {
    if (message.service) {
      const line = el("div", "service");
      line.append(el("span", null, message.topic ? `${message.service} · # ${message.topic}` : message.service));
      pane.append(line);
    } else {
      pane.append(bubble(message, data.chat));
    }
  }
  if (scrollToEnd || nearEnd) pane.scrollTop = pane.scrollHeight;
  renderChatActions(data.chat);
  renderComposer(data.chat);
}

async function loadTranscript(scrollToEnd) {
  if (!state.selected) return;
  const key = state.selected;
  const data = await getJson(`/web/api/chats/${encodeURIComponent(key)}/messages`);
  if (key !== state.selected) return;
  state.transcript = data;
  renderChatList();
  renderPresser();
  renderTranscript(scrollToEnd);
}

// --- the bot in a group: add it, make it an admin ------------------------------------------

const PRESENT = ["creator", "administrator", "member", "restricted"];

function renderChatActions(chat) {
  const box = $("chat-actions");
  // Rebuilt only when the bots' standing changes, so a button is never swapped under a click.
  const signature = chat ? `${chat.key}|${chat.migrated}|${JSON.stringify(chat.bots)}` : "";
  if (box.dataset.signature === signature) return;
  box.dataset.signature = signature;
  box.replaceChildren();
  if (!chat || chat.migrated) return;
  for (const bot of chat.bots) {
    const present = PRESENT.includes(bot.status);
    const choices = [];
    if (!present && chat.type !== "channel") choices.push([`Add @${bot.username}`, false]);
    if (!present) choices.push([`Add @${bot.username} as admin`, true]);
    else if (bot.status === "member" || bot.status === "restricted") choices.push([`Make @${bot.username} admin`, true]);
    for (const [label, admin] of choices) {
      const button = el("button", "action", label);
      button.type = "button";
      button.addEventListener("click", () => addBot(chat.key, bot.id, admin, button));
      box.append(button);
    }
  }
}

async function addBot(chat, botId, admin, button) {
  const userId = actingUser();
  if (!userId) { toast("Choose who adds the bot first", "error"); return; }
  button.disabled = true;
  try {
    await postJson("/web/api/bot-membership", { chat, user_id: userId, bot_id: botId, admin });
    await refresh();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

// --- writing: text, commands, a file, a reply ----------------------------------------------

function actingUser() {
  return Number($("presser").value) || null;
}

function sizeLabel(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderComposer(chat) {
  const form = $("composer");
  form.hidden = !chat || chat.migrated;
  if (form.hidden) return;
  // A private chat nobody wrote in yet offers Telegram's Start button.
  $("start").hidden = !(chat.type === "private" && chat.message_count === 0);
  const reply = state.replyTo;
  $("reply-bar").hidden = !reply;
  if (reply) {
    $("reply-sender").textContent = `Reply to ${reply.sender}`;
    $("reply-preview").textContent = reply.preview;
  }
  const file = state.file;
  $("file-bar").hidden = !file;
  if (file) {
    $("file-name").textContent = file.name;
    $("file-size").textContent = sizeLabel(file.size);
  }
}

async function send(text) {
  const chat = currentChat();
  if (!chat || state.sending) return;
  const userId = actingUser();
  if (!userId) { toast("Create a user first, then write as them", "error"); return; }
  const body = { chat: chat.key, user_id: userId, text };
  if (state.replyTo) body.reply_to = state.replyTo.id;
  if (state.file) body.document = { name: state.file.name, data: state.file.data };
  state.sending = true;
  $("send").disabled = true;
  try {
    await postJson("/web/api/send", body);
    $("message").value = "";
    state.replyTo = null;
    state.file = null;
    $("file").value = "";
    renderComposer(chat);
    await refresh();
  } catch (error) {
    showError(error);
  } finally {
    state.sending = false;
    $("send").disabled = false;
  }
}

async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send($("message").value);
});
$("message").addEventListener("keydown", (event) => {
  // Enter sends, Shift+Enter starts a new line, as in Telegram's apps.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send($("message").value);
  }
});
$("start").addEventListener("click", () => send("/start"));
$("reply-cancel").addEventListener("click", () => { state.replyTo = null; renderComposer(currentChat()); });
$("file-cancel").addEventListener("click", () => {
  state.file = null;
  $("file").value = "";
  renderComposer(currentChat());
});
$("file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  if (file.size > FILE_MAX_BYTES) {
    event.target.value = "";
    toast(`${file.name} is ${sizeLabel(file.size)}; the composer takes files of up to ${sizeLabel(FILE_MAX_BYTES)}`, "error");
    return;
  }
  try {
    state.file = { name: file.name, size: file.size, data: await base64Of(file) };
  } catch (error) {
    showError(error);
  }
  renderComposer(currentChat());
});

// --- new users, private chats and groups ---------------------------------------------------

function fillSelect(select, items, label, wanted) {
  const signature = items.map((item) => `${item.id}:${label(item)}`).join("|");
  if (select.dataset.signature === signature && wanted === undefined) return;
  const chosen = String(wanted ?? select.value);
  select.dataset.signature = signature;
  select.replaceChildren();
  for (const item of items) {
    const option = el("option", null, label(item));
    option.value = String(item.id);
    option.selected = option.value === chosen;
    select.append(option);
  }
}

function userLabel(user) {
  const name = user.username ? `${user.name} (@${user.username})` : user.name;
  // The id is what ADMIN_IDS takes.
  return `${name} · ${user.id}`;
}

function renderChoices(wantedUser) {
  for (const select of document.querySelectorAll(".user-choice")) {
    fillSelect(select, state.users, userLabel, wantedUser);
  }
  for (const label of document.querySelectorAll(".bot-choice")) {
    label.hidden = state.bots.length <= 1;
    fillSelect(label.querySelector("select"), state.bots, (bot) => `@${bot.username}`);
  }
}

function withBot(body, values) {
  const botId = values.get("bot_id");
  if (state.bots.length > 1 && botId) body.bot_id = Number(botId);
  return body;
}

for (const toggle of document.querySelectorAll(".tool")) {
  toggle.addEventListener("click", () => {
    for (const form of document.querySelectorAll(".tool-form")) {
      form.hidden = form.id !== toggle.dataset.form || !form.hidden;
    }
    for (const each of document.querySelectorAll(".tool")) {
      each.classList.toggle("active", !$(each.dataset.form).hidden);
    }
  });
}

$("new-user-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const values = new FormData(form);
  try {
    const { user } = await postJson("/web/api/users", {
      first_name: values.get("first_name"),
      last_name: values.get("last_name"),
      username: values.get("username"),
      language_code: values.get("language_code"),
    });
    form.reset();
    await refresh();
    renderChoices(user.id);
    toast(`Created ${user.name}, user id ${user.id}`);
  } catch (error) {
    showError(error);
  }
});

$("new-private-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = new FormData(event.target);
  const userId = Number(values.get("user_id"));
  if (!userId) { toast("Create a user first", "error"); return; }
  try {
    const { chat } = await postJson("/web/api/private", withBot({ user_id: userId }, values));
    state.presserByChat.set(chat, userId);
    selectChat(chat);
    $("message").focus();
  } catch (error) {
    showError(error);
  }
});

$("new-group-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const values = new FormData(form);
  const userId = Number(values.get("user_id"));
  if (!userId) { toast("Create a user first: they will own the group", "error"); return; }
  try {
    const { chat } = await postJson("/web/api/groups", {
      title: values.get("title"),
      user_id: userId,
      supergroup: values.has("supergroup"),
    });
    form.elements.title.value = "";
    state.presserByChat.set(chat, userId);
    selectChat(chat);
    if (values.has("add_bot")) {
      const membership = { chat, user_id: userId, admin: values.has("admin") };
      await postJson("/web/api/bot-membership", withBot(membership, values));
    }
    await refresh();
  } catch (error) {
    showError(error);
  }
});

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
  const [chats, users, bots] = await Promise.all([
    getJson("/web/api/chats"),
    getJson("/web/api/users"),
    getJson("/web/api/bots"),
  ]);
  state.chats = chats.chats;
  state.users = users.users;
  state.bots = bots.bots;
  state.version = chats.version;
  if (!state.selected && state.chats.length > 0) state.selected = state.chats[0].key;
  renderChoices();
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
