// zhrag chat page: streams answers from /v1/chat/completions and shows cited passages.
// No framework and no CDN: it must work on an intranet with no internet access.
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var apiKey = params.get("key");
  var base = location.pathname.replace(/\/chat\/?$/, "");
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("q");
  var sendBtn = document.getElementById("send");
  var history = [];
  var intro = log.firstElementChild.cloneNode(true);
  var banner = document.getElementById("banner");
  var drawer = document.getElementById("history");
  var convList = document.getElementById("conversations");
  // Conversations are kept in this browser, separately for each key (its public prefix).
  var STORE = "zhrag.conversations." + (apiKey ? apiKey.slice(0, 12) : "open");
  var MAX_CONVERSATIONS = 50;
  var current = null;

  function loadAll() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function saveAll(list) {
    try { localStorage.setItem(STORE, JSON.stringify(list.slice(0, MAX_CONVERSATIONS))); } catch (e) { /* full or blocked */ }
  }
  function saveCurrent() {
    if (!current || !current.turns.length) return;
    current.updated = Date.now();
    var list = loadAll().filter(function (c) { return c.id !== current.id; });
    list.unshift(current);
    saveAll(list);
    renderList();
  }

  function newConversation() {
    history = [];
    current = { id: String(Date.now()) + Math.random().toString(36).slice(2, 6), title: "", updated: Date.now(), turns: [] };
    log.textContent = "";
    log.appendChild(intro.cloneNode(true));
  }

  // A new topic: follow-ups must not be resolved against the old conversation.
  document.getElementById("reset").addEventListener("click", function () {
    if (sendBtn.disabled) return;
    newConversation();
    input.focus();
  });
  document.getElementById("show-history").addEventListener("click", function () {
    drawer.hidden = !drawer.hidden;
    if (!drawer.hidden) renderList();
  });

  function renderList() {
    if (drawer.hidden) return;
    convList.textContent = "";
    var list = loadAll();
    if (!list.length) convList.appendChild(el("li", "empty", "还没有保存的对话"));
    list.forEach(function (c) {
      var li = el("li", c.id === (current && current.id) ? "conv active" : "conv");
      li.dataset.id = c.id;
      var open = el("button", "open", c.title || "（无标题）");
      open.type = "button";
      open.title = new Date(c.updated).toLocaleString("zh-CN");
      open.addEventListener("click", function () { openConversation(c); drawer.hidden = true; });
      var del = el("button", "delete", "删除");
      del.type = "button";
      del.setAttribute("aria-label", "删除对话：" + (c.title || ""));
      del.addEventListener("click", function () {
        saveAll(loadAll().filter(function (x) { return x.id !== c.id; }));
        if (current && current.id === c.id) newConversation();
        renderList();
      });
      li.appendChild(open);
      li.appendChild(del);
      convList.appendChild(li);
    });
  }

  function openConversation(c) {
    if (sendBtn.disabled) return;
    current = c;
    log.textContent = "";
    history = [];
    c.turns.forEach(function (t) {
      if (t.role === "user") {
        log.appendChild(el("li", "msg user", t.content));
      } else {
        var bot = el("li", "msg bot" + (t.refused ? " refused" : ""));
        renderAnswer(bot, t.content, t.citations || []);
        bot.dataset.done = "1";
        log.appendChild(bot);
        addFeedback(bot, { question: t.question, answer: t.content, citations: t.citations || [],
                           refused: !!t.refused, conversation: t.conversation || [] });
      }
      history.push({ role: t.role, content: t.content });
    });
    history = history.slice(-12);
    scroll();
  }

  // A page must never carry a key that can change the archive: anyone can read its HTML.
  function guardKey() {
    if (!apiKey) return;
    fetch(base + "/auth/whoami", { headers: { "Authorization": "Bearer " + apiKey } }).then(function (r) {
      if (r.status === 401) return stop("此页面的密钥无效或已被吊销，请联系管理员。");
      return r.json().then(function (who) {
        if (who.keys_configured && who.role !== "reader") {
          stop("此页面嵌入了具有写权限的密钥（" + who.role + "），为安全已停用。请管理员换用只读（reader）密钥。");
        }
      });
    }).catch(function () { /* offline: the first question will say so */ });
  }
  function stop(msg) {
    apiKey = null;
    banner.textContent = msg;
    banner.hidden = false;
    input.disabled = true;
    sendBtn.disabled = true;
  }

  function addFeedback(bot, item) {
    var bar = el("div", "fb");
    // Words, not emoji: intranet machines often lack an emoji font.
    var up = el("button", "thumb up", "有帮助");
    var down = el("button", "thumb down", "有问题");
    up.type = down.type = "button";
    up.title = "回答有帮助";
    down.title = "回答有问题";
    bar.appendChild(up);
    bar.appendChild(down);
    function choose(rating) {
      up.disabled = down.disabled = true;
      (rating > 0 ? up : down).classList.add("chosen");
      var form = el("form", "fb-form");
      var comment = el("textarea", "comment");
      comment.rows = 2;
      comment.maxLength = 2000;
      comment.placeholder = rating > 0 ? "补充说明（可选）" : "哪里不对？（可选）";
      var corrected = el("input", "corrected");
      corrected.maxLength = 2000;
      corrected.placeholder = "正确答案（可选）";
      var send = el("button", "send-fb", "提交反馈");
      send.type = "submit";
      form.appendChild(comment);
      form.appendChild(corrected);
      form.appendChild(send);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        send.disabled = true;
        var headers = { "Content-Type": "application/json" };
        if (apiKey) headers["Authorization"] = "Bearer " + apiKey;
        fetch(base + "/feedback", { method: "POST", headers: headers, body: JSON.stringify({
          rating: rating, question: item.question, answer: item.answer, refused: item.refused,
          conversation: item.conversation, comment: comment.value.trim(), corrected: corrected.value.trim(),
          citations: (item.citations || []).map(function (c) {
            return { n: c.n, doc_id: c.doc_id, chunk_id: c.chunk_id, title: c.title,
                     char_start: c.char_start, char_end: c.char_end };
          })
        }) }).then(function (r) {
          if (!r.ok) return r.text().then(function (t) { throw new Error(errorText(r.status, t)); });
          form.replaceWith(el("span", "fb-done", "已收到反馈，谢谢！"));
        }).catch(function (err) {
          send.disabled = false;
          var e = form.querySelector(".fb-error") || form.appendChild(el("span", "fb-error"));
          e.textContent = err.message || "提交失败";
        });
      });
      bar.appendChild(form);
      comment.focus();
    }
    up.addEventListener("click", function () { choose(1); });
    down.addEventListener("click", function () { choose(-1); });
    bot.appendChild(bar);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  // Answer text with [n] turned into buttons; built from text nodes, never innerHTML.
  function renderAnswer(node, text, citations) {
    node.textContent = "";
    var parts = text.split(/(\[\d+\])/);
    parts.forEach(function (p) {
      var m = /^\[(\d+)\]$/.exec(p);
      if (m && citations) {
        var n = Number(m[1]);
        var c = citations.find(function (x) { return x.n === n; });
        if (c) {
          var b = el("button", "cite", "[" + n + "]");
          b.type = "button";
          b.setAttribute("aria-expanded", "false");
          b.dataset.n = String(n);
          b.title = "《" + c.title + "》";
          b.addEventListener("click", function () { toggleSource(node, c, b); });
          node.appendChild(b);
          return;
        }
      }
      node.appendChild(document.createTextNode(p));
    });
  }

  function toggleSource(msgNode, c, button) {
    var box = msgNode.querySelector(".sources") || msgNode.appendChild(el("div", "sources"));
    var existing = box.querySelector('[data-n="' + c.n + '"]');
    if (existing) {
      existing.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    var s = el("section", "source");
    s.dataset.n = String(c.n);
    s.appendChild(el("h2", null, "[" + c.n + "] 《" + c.title + "》"));
    var meta = [];
    if (c.meta && c.meta.column) meta.push("栏目：" + c.meta.column);
    if (c.meta && c.meta.source) meta.push("来源：" + c.meta.source);
    if (c.meta && c.meta.reporters) meta.push("记者：" + c.meta.reporters.join("、"));
    if (c.meta && c.meta.photographers) meta.push("摄影：" + c.meta.photographers.join("、"));
    if (c.meta && c.meta.date) meta.push("日期：" + c.meta.date);
    meta.push("第" + c.char_start + "–" + c.char_end + "字");
    s.appendChild(el("div", "meta", meta.join(" · ")));
    var body = el("p", "passage");
    // Highlight the quoted sentences inside the passage.
    var text = c.text, pos = 0;
    var quotes = (c.quotes || []).map(function (q) {
      return { s: q.char_start - c.char_start, e: q.char_end - c.char_start };
    }).filter(function (q) { return q.s >= 0 && q.e <= text.length && q.e > q.s; })
      .sort(function (a, b) { return a.s - b.s; });
    quotes.forEach(function (q) {
      if (q.s < pos) return;
      body.appendChild(document.createTextNode(text.slice(pos, q.s)));
      body.appendChild(el("mark", null, text.slice(q.s, q.e)));
      pos = q.e;
    });
    body.appendChild(document.createTextNode(text.slice(pos)));
    s.appendChild(body);
    box.appendChild(s);
    button.setAttribute("aria-expanded", "true");
    scroll();
  }

  function errorText(status, body) {
    try {
      var j = JSON.parse(body);
      if (Array.isArray(j.detail)) return j.detail.map(function (d) { return d.msg; }).join("；");
      if (j.detail) return String(j.detail);
    } catch (e) { /* not JSON */ }
    return "服务出错（" + status + "）";
  }

  async function ask(question) {
    log.appendChild(el("li", "msg user", question));
    var bot = el("li", "msg bot pending", "");
    log.appendChild(bot);
    scroll();
    var headers = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    if (apiKey) headers["Authorization"] = "Bearer " + apiKey;
    var messages = history.concat([{ role: "user", content: question }]);
    var text = "", final = null;
    try {
      var resp = await fetch(base + "/v1/chat/completions", {
        method: "POST", headers: headers, body: JSON.stringify({ model: "zhrag", messages: messages, stream: true })
      });
      if (!resp.ok) throw new Error(errorText(resp.status, await resp.text()));
      var reader = resp.body.getReader(), decoder = new TextDecoder(), buf = "";
      for (;;) {
        var r = await reader.read();
        if (r.done) break;
        buf += decoder.decode(r.value, { stream: true });
        var lines = buf.split(/\r?\n/);
        buf = lines.pop();
        lines.forEach(function (line) {
          if (line.indexOf("data:") !== 0) return;
          var data = line.slice(5).trim();
          if (!data || data === "[DONE]") return;
          var chunk = JSON.parse(data);
          var ch = chunk.choices && chunk.choices[0];
          if (ch && ch.delta && ch.delta.content) {
            text += ch.delta.content;
            bot.textContent = text;
            scroll();
          }
          if (ch && ch.finish_reason) final = chunk;
        });
      }
      bot.classList.remove("pending");
      if (final && final.refused) bot.classList.add("refused");
      renderAnswer(bot, text, final ? final.citations : []);
      if (final && final.retrieval_query) {
        bot.dataset.query = final.retrieval_query;
        // the question as the service read it, when it differs from what was typed: a follow-up
        // given its subject ("那它的导师…" → "密云区工匠学院的导师…"), Traditional characters read in Simplified ones
        if (final.retrieval_query.replace(/\s+/g, "") !== question.replace(/\s+/g, ""))
          bot.insertBefore(el("div", "asked", "按“" + final.retrieval_query + "”回答"), bot.firstChild);
      }
      var item = { question: question, answer: text, citations: final ? final.citations : [],
                   refused: !!(final && final.refused), conversation: history.slice() };
      addFeedback(bot, item);
      bot.dataset.done = "1";
      history = messages.concat([{ role: "assistant", content: text }]).slice(-12);
      if (!current.title) current.title = question.slice(0, 40);
      current.turns.push({ role: "user", content: question });
      current.turns.push({ role: "assistant", content: text, citations: item.citations, refused: item.refused,
                           question: question, conversation: item.conversation });
      saveCurrent();
    } catch (err) {
      bot.classList.remove("pending");
      bot.classList.add("error");
      bot.textContent = (err && err.message) || "无法连接服务";
      bot.dataset.done = "1";
    }
    scroll();
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q || sendBtn.disabled) return;
    input.value = "";
    sendBtn.disabled = true;
    try { await ask(q); } finally { sendBtn.disabled = false; input.focus(); }
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  newConversation();
  guardKey();
  input.focus();
})();
